/**
 * What the process knows of the model and runtime driving it, from the variables upstream's
 * get_runtime_identity reads (fb0a35f2): MODEL, MODEL_PROVIDER, MOLECULE_MODEL,
 * ANTHROPIC_BASE_URL, TIER, ADAPTER_MODULE (shown as `runtime`), and WORKSPACE_ID. Read once at
 * start-up with the rest of the configuration; the get_runtime_identity tool shows it.
 */
import { cutCodePoints } from "./text.ts";

/** The identity the tool returns; null where the variable is unset or empty. */
export interface RuntimeIdentity {
  readonly model: string | null;
  readonly model_provider: string | null;
  readonly molecule_model: string | null;
  /** scheme://host[:port]/path only: credentials and the query are dropped. */
  readonly anthropic_base_url: string | null;
  readonly tier: string | null;
  readonly workspace_id: string | null;
  /** ADAPTER_MODULE. */
  readonly runtime: string | null;
}

/** The variables readRuntimeIdentity asks for (all in config.ts ENV_VARS). */
export const RUNTIME_IDENTITY_VARS = [
  "MODEL",
  "MODEL_PROVIDER",
  "MOLECULE_MODEL",
  "ANTHROPIC_BASE_URL",
  "TIER",
  "ADAPTER_MODULE",
] as const;

/** Longest value kept per variable, in code points: env values are the operator's, not ours. */
const MAX_VALUE_CHARS = 200;

/**
 * Builds the identity from `value(name)` (the trimmed variable, "" when unset). Values are
 * cut to 200 code points with control characters dropped; a base URL that does not parse is
 * shown as null rather than risk echoing a secret.
 */
export function readRuntimeIdentity(
  value: (name: typeof RUNTIME_IDENTITY_VARS[number] | "WORKSPACE_ID") => string,
): RuntimeIdentity {
  const clean = (raw: string): string | null => {
    // deno-lint-ignore no-control-regex
    const text = cutCodePoints(raw.replace(/[\u0000-\u001f\u007f]/g, ""), MAX_VALUE_CHARS);
    return text === "" ? null : text;
  };
  return Object.freeze({
    model: clean(value("MODEL")),
    model_provider: clean(value("MODEL_PROVIDER")),
    molecule_model: clean(value("MOLECULE_MODEL")),
    anthropic_base_url: safeUrl(value("ANTHROPIC_BASE_URL")),
    tier: clean(value("TIER")),
    workspace_id: clean(value("WORKSPACE_ID").toLowerCase()),
    runtime: clean(value("ADAPTER_MODULE")),
  });
}

function safeUrl(raw: string): string | null {
  if (raw === "") return null;
  const url = URL.parse(raw);
  if (url === null) return null;
  const path = url.pathname === "/" ? "" : url.pathname;
  return cutCodePoints(`${url.protocol}//${url.host}${path}`, MAX_VALUE_CHARS);
}
