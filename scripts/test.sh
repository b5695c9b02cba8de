#!/usr/bin/env bash
# Set up (with the dev extras and Debian's headless Chromium for the browser tests), check the code with ruff
# and the import-layer contract, and run the tests on the real model, real indexes on disk and a real browser.
# Arguments go to pytest: e.g. `bash scripts/test.sh -m "not model"` runs the fast tests that need no model.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing Debian's chromium for the browser tests..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
bash scripts/setup.sh dev,distributed,serve
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/lint-imports --no-cache > /dev/null || .venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest "$@"
