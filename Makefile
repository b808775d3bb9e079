# CrowdMocap: `make demo` and `make test` set everything up themselves on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The first candidate that really runs that version (a pyenv shim may exist and still refuse to run).
find_python = $(shell for p in python$(1) $$HOME/.pyenv/versions/$(1)*/bin/python$(1) /usr/bin/python$(1) \
	/usr/local/bin/python$(1) $(2); do "$$p" -c 'import sys; assert sys.version_info[:2] == ($(subst .,$(comma),$(1)))' \
	>/dev/null 2>&1 && { command -v "$$p"; break; }; done)
comma := ,
PYTHON311 ?= $(call find_python,3.11,python3)
PYTHON313 ?= $(call find_python,3.13)

VENV := .venv
VENV_B5 := .venv-blender5
READY := $(VENV)/.crowdmocap-ready
READY_B5 := $(VENV_B5)/.crowdmocap-ready
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: help setup test lint demo extension clean print-pythons

help:
	@echo "make demo   - the whole job on a real clip (sets up .venv first)"
	@echo "make test   - lint + all tests on Python 3.11/Blender 4.5 and Python 3.13/Blender 5.2"
	@echo "make extension - build and validate the Blender extension zip into dist/"

# Main environment: Python 3.11, server + Blender 4.5 + test tools.
# torch is installed first and pinned: here that is the CPU build on local disk, never a multi-GB CUDA one.
$(READY): pyproject.toml
	@test -n "$(PYTHON311)" || { echo "error: Python 3.11 not found (python3.11)"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON311) -m venv $(VENV)
	$(VENV)/bin/python -m pip install $(PIP_QUIET) "torch==2.13.0"
	$(VENV)/bin/python -m pip install $(PIP_QUIET) -e ".[server,blender,test,cluster]"
	$(VENV)/bin/crowdmocap-server models fetch nanodet-g --if-missing
	$(VENV)/bin/crowdmocap-server models fetch blazepose-full --if-missing
	touch $@

# Second, small environment: Python 3.13 with Blender 5.2 LTS, for the add-on's code and Blender tests.
$(READY_B5): pyproject.toml
	@test -n "$(PYTHON313)" || { echo "error: python3.13 not found; it is needed to test Blender 5.2 (bpy==5.2.*)"; exit 1; }
	test -x $(VENV_B5)/bin/python || $(PYTHON313) -m venv $(VENV_B5)
	$(VENV_B5)/bin/python -m pip install $(PIP_QUIET) "bpy==5.2.*" -e ".[test]"
	touch $@

setup: $(READY) $(READY_B5)

lint: $(READY)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup lint
	CROWDMOCAP_REQUIRE_BPY=1 $(VENV)/bin/python -m pytest
	CROWDMOCAP_REQUIRE_BPY=1 $(VENV_B5)/bin/python -m pytest tests/crowdmocap_addon

extension: $(READY)
	$(VENV)/bin/python scripts/build_extension.py --output-dir dist

demo: $(READY)
	$(VENV)/bin/python scripts/demo.py --out demo_out

clean:
	rm -rf $(VENV) $(VENV_B5) dist build *.egg-info .pytest_cache .ruff_cache

print-pythons:
	@echo "PYTHON311=$(PYTHON311)"; echo "PYTHON313=$(PYTHON313)"
