#!/usr/bin/env bash
# Builds the release binaries: one `deno compile` per target into
# dist/molecule-mcp-<version>-<target>.tar.gz (binary `molecule-mcp` + LICENSE/README when present),
# then dist/SHA256SUMS over every tarball of this version. Run through `make compile`.
#
# Environment:
#   DENO        the pinned deno (the Makefile passes $(DENO))
#   TARGETS     space- or comma-separated targets (default: all four release targets)
#   DENORT_BIN  a local Deno runtime (`denort` of the same Deno version) to embed instead of
#               downloading one; it fits exactly one target, so pass one TARGETS entry with it
#   SOURCE_DATE_EPOCH  mtime stored in the tarballs (default: the last commit's time)
#
# `deno compile` downloads the runtime for each target from dl.deno.land on first use. Without
# DENORT_BIN that host is probed first with a short timeout, so a machine that cannot reach it
# fails at once with what to do instead of hanging.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin)
# DENORT_PROBE_URL exists for tests (tests/release/compile_test.ts points it at a closed loopback port).
RUNTIME_HOST=${DENORT_PROBE_URL:-https://dl.deno.land}
PROBE_TIMEOUT_SECS=5
DENO=${DENO:-deno}

say() { printf 'compile: %s\n' "$*" >&2; }
fail() {
  printf 'compile: %s\n' "$@" >&2
  exit 1
}

version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' deno.json | head -n 1)
v8_flags=$(sed -n 's/^ *"v8Flags": *"\([^"]*\)".*/\1/p' deno.json | head -n 1)
[ -n "$version" ] || fail 'cannot read "version" from deno.json'

targets_text=${TARGETS:-}
read -r -a targets <<<"${targets_text//,/ }"
[ "${#targets[@]}" -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for target in "${targets[@]}"; do
  case " ${ALL_TARGETS[*]} " in
    *" $target "*) ;;
    *) fail "unknown target \"$target\": choose from ${ALL_TARGETS[*]}" ;;
  esac
done

# The release target this machine runs, if any: its binary is smoke-tested before packing.
case "$(uname -m)-$(uname -s)" in
  x86_64-Linux) host_target=x86_64-unknown-linux-gnu ;;
  aarch64-Linux | arm64-Linux) host_target=aarch64-unknown-linux-gnu ;;
  x86_64-Darwin) host_target=x86_64-apple-darwin ;;
  arm64-Darwin | aarch64-Darwin) host_target=aarch64-apple-darwin ;;
  *) host_target="" ;;
esac

# What the binary carries besides the runtime: the bundle of main.ts (release/bundle.sh), with
# the module graph it was made from as a second figure for the release note.
report_payload() {
  local graph bundle_bytes
  graph=$("$DENO" info --json main.ts | "$DENO" eval -q '
    const graph = JSON.parse(await new Response(Deno.stdin.readable).text());
    const local = graph.modules.filter((m) => typeof m.size === "number");
    const bytes = local.reduce((sum, m) => sum + m.size, 0);
    const npm = graph.modules.filter((m) => m.kind === "npm").length;
    console.log(`${local.length} modules, ${bytes} bytes of source, ${npm} npm imports`);
  ')
  say "JS payload (deno info main.ts): $graph"
  bundle_bytes=$(wc -c <"$1")
  say "JS payload (release/bundle.sh, embedded): $bundle_bytes bytes, $(gzip -9c "$1" | wc -c) gzipped"
}

runtime_unreachable() {
  cat >&2 <<EOF
compile: the Deno runtime download host ($RUNTIME_HOST) cannot be reached from this machine
compile: (probe with a ${PROBE_TIMEOUT_SECS}s timeout: ${1:-no answer}).
compile: 'deno compile' downloads from there the runtime that each target's binary embeds.
compile: Release binaries are built by the release workflow (.github/workflows/release.yml) on a tag v*.
compile: To build here anyway, point at a local runtime of Deno $("$DENO" --version | head -n 1 | cut -d' ' -f2) for one target:
compile:   DENORT_BIN=/path/to/denort make compile TARGETS=${host_target:-${targets[0]}}
EOF
  exit 1
}

if [ -n "${DENORT_BIN:-}" ]; then
  [ -f "$DENORT_BIN" ] && [ -x "$DENORT_BIN" ] ||
    fail "DENORT_BIN=$DENORT_BIN is not an executable file: point it at the denort binary of this Deno version"
  [ "${#targets[@]}" -eq 1 ] ||
    fail "DENORT_BIN is one runtime for one target: pass exactly one, e.g. TARGETS=${targets[0]}"
  say "embedding the local runtime $DENORT_BIN for ${targets[0]}"
elif command -v curl >/dev/null 2>&1; then
  probe=$(curl -sSI --max-time "$PROBE_TIMEOUT_SECS" -o /dev/null "$RUNTIME_HOST" 2>&1) ||
    runtime_unreachable "$probe"
else
  # No curl: the same probe through deno, bounded by the same timeout.
  "$DENO" eval -q "await fetch('$RUNTIME_HOST', { method: 'HEAD', signal: AbortSignal.timeout(${PROBE_TIMEOUT_SECS}000) })" \
    >/dev/null 2>&1 || runtime_unreachable "deno fetch failed"
fi

mkdir -p dist
: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every target embeds the same bundle: one module to load at start-up (release/bundle.sh).
bundle="$work/molecule-mcp.js"
DENO="$DENO" bash release/bundle.sh "$bundle" || fail "bundling main.ts failed (release/bundle.sh): run it alone to see why"
report_payload "$bundle"

for target in "${targets[@]}"; do
  stage="$work/$target"
  mkdir -p "$stage"
  say "deno compile --target $target"
  # -P=shipped: the binary gets exactly the permission set deno.json declares.
  # --exclude-unused-npm: the lockfile's npm packages are test-only; embed none that main.ts
  # does not reach.
  # --v8-flags: the runtime flags deno.json declares ("runtime.v8Flags"), baked in.
  # --config: the bundle lives outside the checkout; permissions and lockfile come from here.
  "$DENO" compile -q --config deno.json -P=shipped --v8-flags="$v8_flags" --frozen \
    --exclude-unused-npm --target "$target" \
    --output "$stage/molecule-mcp" "$bundle"
  # A binary for this machine must run and report the version before it is packed.
  if [ "$target" = "$host_target" ]; then
    out=$("$stage/molecule-mcp" --version 2>&1) || fail "the $target binary failed to run --version: $out"
    case "$out" in
      *"$version"*) say "smoke: $target binary reports '$out'" ;;
      *) fail "the $target binary reports '$out', expected version $version" ;;
    esac
  fi
  files=(molecule-mcp)
  for extra in LICENSE README.md; do
    if [ -f "$extra" ]; then
      cp "$extra" "$stage/"
      files+=("$extra")
    fi
  done
  tarball="dist/molecule-mcp-$version-$target.tar.gz"
  # Fixed owner, order and mtime, and gzip -n: the same inputs give the same bytes.
  tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name \
    --mtime="@$SOURCE_DATE_EPOCH" -cf - "${files[@]}" | gzip -9n >"$tarball"
  say "wrote $tarball ($(du -h "$tarball" | cut -f1), binary $(du -h "$stage/molecule-mcp" | cut -f1))"
done

(
  cd dist
  shopt -s nullglob
  tarballs=(molecule-mcp-"$version"-*.tar.gz)
  [ "${#tarballs[@]}" -gt 0 ] || exit 1
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "${tarballs[@]}" >SHA256SUMS
  else
    shasum -a 256 "${tarballs[@]}" >SHA256SUMS # macOS: same output format
  fi
)
say "wrote dist/SHA256SUMS:"
sed 's/^/  /' dist/SHA256SUMS >&2
