# The two set-up commands are `make demo` and `make test`; both bootstrap what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test check pytest demo ffmpeg package deploy bench bench-smoke soak fmt clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# ffprobe is needed by the emulator (CI MediaInfo) and the end-to-end tests: install it when missing.
ffmpeg:
	@if command -v ffprobe >/dev/null 2>&1 && command -v ffmpeg >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing ffmpeg with apt-get ..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; \
	else \
	  echo "ffmpeg/ffprobe not found: install them (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg)" >&2; \
	  exit 1; \
	fi

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

pytest: $(STAMP) ffmpeg
	MEDIA_TAGGER_REQUIRE_FFPROBE=1 $(BIN)/python -m pytest

test: check pytest

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP) ffmpeg
	$(BIN)/python -m emulator demo $(FILE)

# 500 parallel uploads through the emulator, clean and then with 10 % COS/CI 503/429 and 5 % of
# callbacks dropped or duplicated, followed by reconcile; exits non-zero if any object is lost or
# wrong (figures: README "Soak run"). SOAK_ARGS passes options, e.g. SOAK_ARGS="--uploads 100".
soak: $(STAMP) ffmpeg
	$(BIN)/python -m emulator soak $(SOAK_ARGS)

# One deployable zip per SCF function (build/<function>.zip, sizes printed) for the runtime that
# serverless.yml names; needs that Python here (pyenv, python3.X on PATH, or SCF_PYTHON=/path).
package: $(STAMP)
	$(BIN)/python -m deploy.package $(if $(SCF_PYTHON),--python $(SCF_PYTHON))

# Build the zips, then create or update everything in the cloud (docs/deploy.md): the role, media
# processing, the three functions and their triggers. DEPLOY_ARGS passes options, e.g.
# DEPLOY_ARGS="--profile prod --stage prod". `python -m deploy plan` shows what it would do.
deploy: package
	$(BIN)/python -m deploy up $(DEPLOY_ARGS)

# Performance suite: both functions against a plain cos-python-sdk-v5 version of them (benchmarks/),
# one table with ratios and budgets; exits non-zero when a budget is missed (~2 min). Needs the SCF
# runtime's Python, like `make package`. bench-smoke: tiny counts, checks every figure, not budgets.
bench: $(STAMP) ffmpeg
	$(BIN)/python -m benchmarks $(if $(BENCH_JSON),--json $(BENCH_JSON))

bench-smoke: $(STAMP) ffmpeg
	$(BIN)/python -m benchmarks --smoke

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
