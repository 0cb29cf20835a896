#!/usr/bin/env bash
# Bundles main.ts and every module it reaches (the import() ones too) into ONE minified
# JavaScript file: the program the release binary embeds (release/compile.sh compiles it) and
# the one `make bench` measures (bench/bundled_program.sh). One place, so both are the same.
#
# Why a bundle: start-up then loads one module instead of ~35, which `make bench` 1/2 measures
# at about 2.5 MiB of peak RSS and 15 ms of CPU less before the initialize answer; minified
# source is half the size to hold and parse. Our error classes set `name` explicitly, so
# renamed identifiers change no message; tests run main.ts, and the release workflow runs the
# whole suite against the binary built from this bundle.
#
# Usage: release/bundle.sh OUT_FILE     (DENO: the pinned deno; the Makefile passes it)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: release/bundle.sh OUT_FILE}
DENO=${DENO:-deno}
# --config: deno.json's import map and compiler options; --platform deno keeps Deno.* and
# node: built-ins as they are.
"$DENO" bundle -q --config deno.json --platform deno --minify -o "$out" main.ts
