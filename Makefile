# molecule-mcp build entry point. A fresh machine needs only `make` and npm: when no `deno` of
# the pinned version is on PATH, the pinned one is installed from the npm registry into .tools/.
DENO_PIN := 2.9.6
SHELL := /bin/bash

LOCAL_DENO := .tools/node_modules/.bin/deno
PATH_DENO := $(shell command -v deno 2>/dev/null)
PATH_DENO_VERSION := $(if $(PATH_DENO),$(shell deno --version 2>/dev/null | head -n1 | cut -d' ' -f2))
DENO := $(if $(filter $(DENO_PIN),$(PATH_DENO_VERSION)),$(PATH_DENO),$(LOCAL_DENO))

# The shipped permission set lives in deno.json ("permissions.shipped"); -q hides Deno's
# "experimental" notice about config-file permissions so stderr stays ours. The V8 flags
# ("runtime.v8Flags", chosen by make bench for memory) come from deno.json too. --no-lock: the
# program imports no npm package (the lockfile's are the tests'), and loading it costs ~1.5 MB.
V8_FLAGS := $(shell sed -n 's/^ *"v8Flags": *"\([^"]*\)".*/\1/p' deno.json)
RUN_FLAGS := -q --no-lock -P=shipped --v8-flags=$(V8_FLAGS)

.PHONY: all deno run test lint fmt compile bench demo formula clean install conformance

all: lint test

deno: $(DENO)

$(LOCAL_DENO):
	@echo "bootstrapping deno $(DENO_PIN) from the npm registry into .tools/" >&2
	@mkdir -p .tools
	@npm install --prefix .tools --no-save --no-audit --no-fund --loglevel=error deno@$(DENO_PIN) >&2
	@$(LOCAL_DENO) --version | head -n1 >&2

run: $(DENO)
	@$(DENO) run $(RUN_FLAGS) main.ts $(ARGS)

# A small wrapper that runs this checkout with the shipped permission set, for MCP hosts and
# shells: `make install` (PREFIX=~/.local by default) writes $(PREFIX)/bin/molecule-mcp.
PREFIX ?= $(HOME)/.local
CHECKOUT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# $(call shell_quote,TEXT): TEXT as one single-quoted sh word (each ' inside becomes '\''), so a
# path with spaces, $, quotes, backticks or backslashes reaches the recipe and the wrapper as is.
shell_quote = '$(subst ','\'',$(1))'
WRAPPER_EXEC = exec $(call shell_quote,$(abspath $(DENO))) run -q --no-lock --config $(call shell_quote,$(CHECKOUT)/deno.json) -P=shipped --v8-flags=$(V8_FLAGS) $(call shell_quote,$(CHECKOUT)/main.ts) "$$@"

install: $(DENO)
	@mkdir -p $(call shell_quote,$(PREFIX)/bin)
	@printf '%s\n' '#!/bin/sh' \
	  $(call shell_quote,# molecule-mcp from the checkout $(CHECKOUT) (written by make install)) \
	  $(call shell_quote,$(WRAPPER_EXEC)) \
	  > $(call shell_quote,$(PREFIX)/bin/molecule-mcp)
	@chmod 755 $(call shell_quote,$(PREFIX)/bin/molecule-mcp)
	@printf '%s\n' $(call shell_quote,wrote $(PREFIX)/bin/molecule-mcp (runs $(CHECKOUT))) >&2

test: $(DENO)
	@$(DENO) test -q -P=test --frozen $(TEST_ARGS)

# The official MCP conformance suite (npm:@modelcontextprotocol/conformance, pinned in deno.json
# and deno.lock, tests only) against `molecule-mcp --http` with the fake platform behind it.
# Baseline: tests/conformance/expected_failures.yml. CONFORMANCE_ARGS="--scenario ping" picks one.
conformance: $(DENO)
	@$(DENO) run -q -A --frozen tests/conformance/run.ts $(CONFORMANCE_ARGS)

# The layer check (scripts/check_layers.ts) reads `deno info --json` and fails when a folder of
# lib/ imports what it must not, or when imports form a cycle (README "Development").
lint: $(DENO)
	@$(DENO) fmt --check
	@$(DENO) lint
	@$(DENO) check --frozen main.ts lib/ tests/ bench/ demo/ release/ scripts/
	@$(DENO) run -q --no-lock --allow-read --allow-run=$$(readlink -f $(DENO)) scripts/check_layers.ts

fmt: $(DENO)
	@$(DENO) fmt

clean:
	rm -rf .tools dist

# Release binaries: see release/compile.sh. `deno compile` downloads each target's runtime from
# dl.deno.land; where that host is unreachable, compile stops at once and says what to do
# (DENORT_BIN=/path/to/denort make compile TARGETS=<one target>). The release workflow builds all four.
TARGETS ?=
RELEASE_BASE_URL ?= https://github.com/molecule-ai/molecule-mcp/releases/download
FORMULA := $(DENO) run -q --allow-read=dist --allow-write=dist release/formula.ts

compile: $(DENO)
	@DENO="$(DENO)" TARGETS="$(TARGETS)" bash release/compile.sh

# dist/molecule-mcp.rb for the Homebrew tap, from dist/SHA256SUMS and deno.json's version.
formula: $(DENO)
	@$(FORMULA) --base-url "$(RELEASE_BASE_URL)"

.PHONY: dist
dist: compile
	@$(FORMULA) --base-url "$(RELEASE_BASE_URL)"

# Benchmarks against the local platform simulator: a table of figures with budgets (PASS/MISS,
# never asserted). BENCH_QUICK=1 shortens the long runs; BENCH_ONLY=1,6 picks benchmarks;
# BENCH_V8_FLAGS=... passes DENO_V8_FLAGS to the program (e.g. --optimize-for-size).
# The program measured is what the release binary embeds: the bundle of release/bundle.sh, run
# with the shipped permission set by bench/bundled_program.sh (the closest stand-in for the
# binary where `deno compile` cannot fetch its runtime); bench 1 and 2 also measure a checkout's
# `deno run main.ts` beside it; the floors run with the bundle's config (its permission set
# alone), as the program does. BENCH_SOURCE=1 measures `deno run main.ts` throughout;
# MOLECULE_MCP_BIN=dist/<binary> measures a compiled binary.
# --allow-run also reads the child's RSS (`cat /proc/<pid>/status`: Deno grants /proc/<pid>
# paths only with --allow-all).
.PHONY: bench demo fake-platform
BENCH_ENV := BENCH_QUICK,BENCH_ONLY,BENCH_V8_FLAGS,BENCH_BUNDLED,BENCH_FLOOR_CONFIG,MOLECULE_MCP_BIN,DENO_DIR
BENCH_RUN := $(DENO) run -q --allow-run --allow-net=127.0.0.1 --allow-read --allow-write --allow-env=$(BENCH_ENV) bench/run.ts
bench: $(DENO)
	@if [ -n "$${MOLECULE_MCP_BIN:-}" ] || [ -n "$${BENCH_SOURCE:-}" ]; then \
	  $(BENCH_RUN); \
	else \
	  bin=$$(DENO=$(DENO) bash bench/bundled_program.sh) || exit 1; \
	  MOLECULE_MCP_BIN=$$bin BENCH_BUNDLED=1 BENCH_FLOOR_CONFIG=$$(dirname "$$bin")/deno.json \
	    $(BENCH_RUN); \
	  status=$$?; rm -rf "$$(dirname "$$bin")"; exit $$status; \
	fi

# The whole loop with no Molecule account: simulator + server + a scripted MCP session.
demo: $(DENO)
	@$(DENO) run -q --allow-run --allow-net=127.0.0.1 --allow-read --allow-write --allow-env=MOLECULE_MCP_BIN,DENO_DIR demo/demo.ts

# The local platform simulator alone, for trying a real MCP host by hand: prints PLATFORM_URL,
# WORKSPACE_ID and a token, then takes commands (`say <text>` = a canvas message) on stdin or as
# `curl -d <text> <url>/_fake/say`. FAKE_PORT=<n> pins the port (default: a free one).
FAKE_PORT ?= 0
fake-platform: $(DENO)
	@$(DENO) run -q --allow-net=127.0.0.1 --allow-read --allow-write demo/serve_fake_platform.ts $(FAKE_PORT)
