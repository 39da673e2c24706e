# lvs.cluster: `make demo` to see a cluster, `make test` to prove it.
# Controller: Python 3.12 (ansible-core 2.21 needs >= 3.12); guests use Debian's python3.
SHELL := /bin/bash
# First Python 3.12 that really runs (a pyenv shim on PATH may refuse to).
PYTHON ?= $(shell for p in $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) \
            $(wildcard /root/.pyenv/versions/3.12*/bin/python3.12) /usr/bin/python3.12 \
            /usr/local/bin/python3.12 python3.12; do \
            $$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 \
            && { command -v $$p; break; }; done)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# gcc: the lab's XSAVE wrapper (lvslab/uml_xstate.c); ffmpeg: media clients and clips;
# python3-gi and GStreamer: lvs-media-server's tests on the build host
# nftables, iptables: the fwmark module's nftables backend tested on the build host kernel
HOST_PACKAGES := user-mode-linux uml-utilities mmdebstrap e2fsprogs iproute2 netcat-openbsd \
                 openssh-client curl gcc libc6-dev ffmpeg python3-gi python3-gst-1.0 \
                 gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
                 nftables iptables
# Debian's keepalived, unpacked (never installed: the package would start the service), for
# the unit tests' `keepalived --config-test` of the rendered configuration
KEEPALIVED_DIR := /var/cache/lvslab/keepalived
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/collections
export PY_COLORS := 0
export ANSIBLE_FORCE_COLOR := 0

.PHONY: help deps host-deps venv collections keepalived image lint unit kernel molecule test \
        demo bench build down-all clean

help:
	@echo "make demo   - from nothing: host packages, .venv, guest image, web lab, site.yml"
	@echo "make test   - lint, unit tests, kernel tests in a lab guest, molecule test --all"
	@echo "make bench  - benchmarks under bench/ (figures, not asserts)"
	@echo "make build  - the lvs.cluster collection tarball"

deps: host-deps venv collections

host-deps:
	@missing=$$(for p in $(HOST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing host packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found: install it or set PYTHON=..."; exit 1; }
	@echo "creating $(VENV) with $(PYTHON)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --disable-pip-version-check -e . 2>&1 | grep -v '^WARNING: Location' || true
	@$(BIN)/python -c "import ansible, molecule, testinfra, lvslab" && touch $@

collections:
	@mkdir -p collections/ansible_collections/lvs
	@ln -sfn ../../.. collections/ansible_collections/lvs/cluster

keepalived: $(KEEPALIVED_DIR)/keepalived

# keepalived and the libraries (lib* packages) it needs that the host lacks, unpacked
# into $(KEEPALIVED_DIR)/root; $(KEEPALIVED_DIR)/keepalived runs it with those libraries.
$(KEEPALIVED_DIR)/keepalived:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; cd "$$tmp"; \
	get() { apt-get download -qq -o APT::Sandbox::User=root "$$1" 2>/dev/null \
	        || { apt-get update -qq && apt-get download -qq -o APT::Sandbox::User=root "$$1"; }; }; \
	todo=keepalived; seen=; \
	while [ -n "$$todo" ]; do \
	  set -- $$todo; pkg=$$1; shift; todo="$$*"; \
	  case " $$seen " in *" $$pkg "*) continue;; esac; seen="$$seen $$pkg"; \
	  if [ "$$pkg" != keepalived ] && dpkg -s "$$pkg" >/dev/null 2>&1; then continue; fi; \
	  get "$$pkg"; deb=$$(ls "$$pkg"_*.deb); dpkg-deb -x "$$deb" root; \
	  todo="$$todo $$(dpkg-deb -f "$$deb" Pre-Depends Depends | sed 's/^[A-Za-z-]*://' \
	    | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/ //g' | grep '^lib' || true)"; \
	done; \
	libs=$$(find root -name '*.so*' -printf "$(KEEPALIVED_DIR)/%h\n" | sort -u | paste -sd:); \
	printf '#!/bin/sh\n# Debian'"'"'s keepalived, unpacked by make keepalived\nLD_LIBRARY_PATH=%s exec %s "$$@"\n' \
	  "$$libs" "$(KEEPALIVED_DIR)/root/usr/sbin/keepalived" > keepalived; \
	chmod 755 keepalived; rm -rf "$(KEEPALIVED_DIR)"; mkdir -p "$(KEEPALIVED_DIR)"; \
	mv root keepalived "$(KEEPALIVED_DIR)/"; \
	"$(KEEPALIVED_DIR)/keepalived" --version >/dev/null 2>&1 \
	  || { "$(KEEPALIVED_DIR)/keepalived" --version; rm -rf "$(KEEPALIVED_DIR)"; exit 1; }; \
	echo "keepalived unpacked: $(KEEPALIVED_DIR)/keepalived"

image: deps
	lvslab image

lint: deps
	ruff check .
	ruff format --check lvslab bench tests plugins molecule
	yamllint -s .
	ansible-lint

unit: deps keepalived
	pytest -q tests/unit

# two workers, one file each at a time: a file shares its lab (the smoke lab of its
# worker, or a lab of its own); the lab-owning files overlap with the rest
kernel: image
	pytest -q -n 2 --dist loadfile tests/kernel

molecule: image
	MOLECULE_GLOB="molecule/*/molecule.yml" molecule test --all

# every stage, then a table of each one's time (lvslab/stages.py)
test: image keepalived
	python -m lvslab.stages

demo: image
	python -m lvslab.demo

bench: image
	python bench/lab_boot.py
	python bench/ipvs_apply.py
	python bench/failover.py
	python bench/plan_scale.py
	python bench/media.py
	python bench/cache_hit.py

build: deps
	ansible-galaxy collection build --force --output-path build

down-all:
	@for lab in $$(ls /var/lib/lvslab/labs 2>/dev/null); do lvslab down --name $$lab; done

clean: down-all
	rm -rf $(VENV) collections build .pytest_cache .ruff_cache
