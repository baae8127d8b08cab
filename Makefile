# The two set-up commands are `make demo` and `make test`; both bootstrap what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test check pytest demo ffmpeg pythons package lock deploy bench bench-smoke soak mutants fmt clean

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

# Every SCF runtime Python (3.9-3.13) the tests run the code on: found, else installed with uv or
# pyenv where this machine can reach their downloads; the outcome goes to build/runtimes.json.
pythons: $(STAMP)
	@$(BIN)/python -m deploy.pythons

# MEDIA_TAGGER_REQUIRE_TOOLS names the tools whose absence fails the run (tests/runtimes.py):
# ffprobe here (`make ffmpeg` just installed it); CI=true requires every SCF runtime too.
# Elsewhere a runtime that could not be had is skipped and named in the summary.
pytest: $(STAMP) ffmpeg pythons
	MEDIA_TAGGER_REQUIRE_TOOLS=ffprobe $(BIN)/python -m pytest

test: check pytest

# Plants each single-line bug of tests/mutants/mutants.txt, one at a time, in a throwaway copy of
# the tree, runs the test files it names and prints which bugs no test notices, then the score
# (docs/development.md "Mutants"; ~3 min on 2 cores). Not part of `make test`. MUTANTS_ARGS passes
# options, e.g. MUTANTS_ARGS="--only backfill" or "--jobs 1".
mutants: $(STAMP)
	$(BIN)/python -m tests.mutants $(MUTANTS_ARGS)

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# FILE may contain spaces: make demo FILE="my clip.mp4" (read from the environment, not re-split).
demo: $(STAMP) ffmpeg
	$(BIN)/python -m emulator demo $${FILE:+"$$FILE"}

# Three phases through the emulator (docs/soak.md): 500 parallel uploads clean (with deletes,
# re-creates and A->B->A overwrites), the same with 30 % COS/CI 503/429, 20 % of callbacks dropped,
# 5 % duplicated and some reordered, then reconcile; and a burst of 1000 uploads against a CI queue
# of 100 waiting jobs, paused half-way. Exits non-zero if any object is lost or wrong. SOAK_ARGS
# passes options, e.g. SOAK_ARGS="--phase burst --burst-uploads 2000" (the issue's full burst).
soak: $(STAMP) ffmpeg
	$(BIN)/python -m emulator soak $(SOAK_ARGS)

# One deployable zip per SCF function (build/<function>.zip, sizes and vendored distributions
# printed, build/<function>.bom.txt) for the runtime that serverless.yml names, installed with
# --require-hashes from requirements.lock; needs that Python here (python3.X on PATH, pyenv, uv's,
# or SCF_PYTHON=/path): the error says what is missing and how to get it (`make pythons`).
package: $(STAMP)
	$(BIN)/python -m deploy.package $(if $(SCF_PYTHON),--python $(SCF_PYTHON))

# requirements.lock: every runtime distribution, transitive ones included, pinned with the sha256
# of each of its files, from requirements.txt (uv keeps the pins already in the lock unless told:
# docs/packaging.md "Bumping a pin"). Needs the package index; `make package` never resolves.
lock: $(STAMP)
	$(BIN)/uv pip compile requirements.txt --universal --python-version 3.9 --generate-hashes \
	  --custom-compile-command "make lock" --quiet --output-file requirements.lock

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
