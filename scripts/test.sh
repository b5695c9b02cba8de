#!/usr/bin/env bash
# Set up (with the dev extras and Debian's headless Chromium for the browser tests) and run the tests
# on the real model, real indexes on disk and a real browser.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
bash scripts/setup.sh dev,distributed
exec .venv/bin/python -m pytest "$@"
