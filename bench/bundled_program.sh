#!/usr/bin/env bash
# Builds the program as the release binary embeds it (release/bundle.sh: one minified module; no
# deno.json import map or lockfile at run time) plus a wrapper that runs it with the shipped
# permission set and V8 flags, and prints the wrapper's path. Where no Deno runtime can be
# downloaded for `deno compile`, this is the closest stand-in for the binary: `make bench`
# measures it, and `MOLECULE_MCP_BIN=$(bash bench/bundled_program.sh) make test` runs the e2e
# suite on it.
set -euo pipefail
cd "$(dirname "$0")/.."
deno_bin=${DENO:-.tools/node_modules/.bin/deno}
deno_bin=$(cd "$(dirname "$deno_bin")" && pwd)/$(basename "$deno_bin")
out=$(mktemp -d "${TMPDIR:-/tmp}/molecule-mcp-bundled.XXXXXX")
DENO="$deno_bin" bash release/bundle.sh "$out/molecule-mcp.js"
# Only the permission set travels with the bundle: exactly what -P=shipped reads.
"$deno_bin" eval -q '
  const manifest = JSON.parse(Deno.readTextFileSync("deno.json"));
  const config = { permissions: { shipped: manifest.permissions.shipped } };
  Deno.writeTextFileSync(Deno.args[0], JSON.stringify(config));
  Deno.writeTextFileSync(Deno.args[1], manifest.runtime.v8Flags);
' "$out/deno.json" "$out/v8flags"
cat >"$out/molecule-mcp" <<WRAPPER
#!/bin/sh
exec "$deno_bin" run -q --no-lock --config "$out/deno.json" -P=shipped \
  --v8-flags=$(cat "$out/v8flags") "$out/molecule-mcp.js" "\$@"
WRAPPER
chmod +x "$out/molecule-mcp"
echo "$out/molecule-mcp"
