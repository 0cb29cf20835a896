/**
 * molecule-mcp entry point: wires configuration, platform link, inbox and the MCP server.
 * (Being built: see the foundation issue.)
 */
import { VERSION } from "./lib/version.ts";

if (import.meta.main) {
  Deno.stderr.writeSync(new TextEncoder().encode(`molecule-mcp ${VERSION}\n`));
}
