#!/usr/bin/env bash
# Set up (with the dev extras) and run the whole test suite on the real model and real indexes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
exec .venv/bin/python -m pytest "$@"
