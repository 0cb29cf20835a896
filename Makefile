# molecule-mcp build entry point. A fresh machine needs only `make` and npm: when no `deno` of
# the pinned version is on PATH, the pinned one is installed from the npm registry into .tools/.
DENO_PIN := 2.9.6
SHELL := /bin/bash

LOCAL_DENO := .tools/node_modules/.bin/deno
PATH_DENO := $(shell command -v deno 2>/dev/null)
PATH_DENO_VERSION := $(if $(PATH_DENO),$(shell deno --version 2>/dev/null | head -n1 | cut -d' ' -f2))
DENO := $(if $(filter $(DENO_PIN),$(PATH_DENO_VERSION)),$(PATH_DENO),$(LOCAL_DENO))

# The shipped permission set lives in deno.json ("permissions.shipped"); -q hides Deno's
# "experimental" notice about config-file permissions so stderr stays ours.
RUN_FLAGS := -q -P=shipped

.PHONY: all deno run test lint fmt compile bench demo formula clean

all: lint test

deno: $(DENO)

$(LOCAL_DENO):
	@echo "bootstrapping deno $(DENO_PIN) from the npm registry into .tools/" >&2
	@mkdir -p .tools
	@npm install --prefix .tools --no-save --no-audit --no-fund --loglevel=error deno@$(DENO_PIN) >&2
	@$(LOCAL_DENO) --version | head -n1 >&2

run: $(DENO)
	@$(DENO) run $(RUN_FLAGS) main.ts $(ARGS)

test: $(DENO)
	@$(DENO) test -q -P=test --frozen $(TEST_ARGS)

lint: $(DENO)
	@$(DENO) fmt --check
	@$(DENO) lint
	@$(DENO) check --frozen main.ts lib/ tests/

fmt: $(DENO)
	@$(DENO) fmt

clean:
	rm -rf .tools dist
