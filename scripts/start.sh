#!/usr/bin/env bash
# Set up, build the index of data/articles if needed, and serve the web chat on http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/rag serve "$@"
