#!/usr/bin/env bash
# Create .venv and install Verbatim into it (torch pinned to the CPU build by constraints.txt).
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev
# Re-running is cheap: the install is skipped while pyproject.toml and constraints.txt are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)${extras:+-$extras}"
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -c constraints.txt -e ".${extras:+[$extras]}"
    touch "$stamp"
fi
