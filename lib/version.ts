/**
 * The program's version, read from deno.json so there is exactly one place to bump it.
 * A static JSON import is embedded by `deno compile`; nothing is read at run time.
 */
import manifest from "../deno.json" with { type: "json" };

/** Version string printed by `--version`, sent as serverInfo.version and in release names. */
export const VERSION: string = manifest.version;
