# Two commands do all the set-up on a fresh machine:
#   make run    runs Placet on its embedded defaults (SQLite, the local model, no key, no network):
#               the dashboard, the REST API and a drafting worker on http://127.0.0.1:8000/
#   make test   runs the whole test suite (ruff, mypy --strict, import-linter, pytest)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
NAME   ?= Rahul
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup run demo test lint browser postgres screenshots bench clean
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

LLAMA  := $(VENV)/.llama-built
# llama.cpp is built from source for this machine's CPU, but without Intel AMX:
# ggml's AMX kernels crash (SIGSEGV in ggml_backend_amx_mul_mat, llama.cpp issue
# 20824) on CPUs that advertise AMX, such as Sapphire Rapids virtual machines.
# GCC and Clang honour an explicit -mno-* whatever -march=native turns on.
# --no-cache-dir: pip must not reuse a wheel it cached from a build with AMX.
ifeq ($(shell uname -m),x86_64)
LLAMA_CFLAGS := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
endif

$(LLAMA):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "building llama.cpp for this machine into $(VENV) (a few minutes, once)"
	CFLAGS="$(LLAMA_CFLAGS)" CXXFLAGS="$(LLAMA_CFLAGS)" $(BIN)/python -m pip install --quiet \
	  --no-cache-dir --force-reinstall --no-deps 'llama-cpp-python>=0.3.7'
	@touch $(LLAMA)

$(STAMP): pyproject.toml $(LLAMA)
	@echo "installing Placet and its dependencies into $(VENV)"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	@test -f placet.toml || $(BIN)/placet init
	PLACET_MODEL=$${PLACET_MODEL:-local:smollm2} $(BIN)/placet serve

# The seed's flow in the terminal: draft an onboarding email and wait for a person.
demo: setup
	@test -f placet.toml || $(BIN)/placet init
	PLACET_MODEL=$${PLACET_MODEL:-local:smollm2} $(BIN)/placet run onboarding_email --input name=$(NAME)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

# The dashboard's browser tests drive Debian's Chromium (Playwright's own download
# cannot work offline); install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

# The PostgreSQL tests need a real server: start the local one when it is stopped
# (installing it on a fresh machine). With CI=true they fail rather than skip.
PLACET_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export PLACET_TEST_DATABASE_URL
postgres: setup
	@.ci/postgres "$(PLACET_TEST_DATABASE_URL)"

test: lint browser postgres
	$(BIN)/pytest

# The README's pictures (docs/queue.png, docs/task.png), taken by the dashboard's keyboard
# test; a plain test run saves its screenshots in a temporary folder instead.
screenshots: setup browser
	PLACET_TEST_SCREENSHOTS=docs $(BIN)/pytest tests/e2e/test_dashboard.py -k keyboard_only

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
