#!/usr/bin/env bash
# Create .venv and install Verbatim into it (torch pinned to the CPU build by constraints.txt).
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev,distributed
# Re-running is cheap: nothing is installed while pyproject.toml and constraints.txt are unchanged and the
# extras asked for are already there (the test command's extras include the start command's).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
wanted="$(tr ',' '\n' <<<"${1:-}" | sed '/^$/d' | sort -u)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [ ! -f "$stamp" ] || [ -n "$(comm -23 <(echo "$wanted") <(echo "$have") | sed '/^$/d')" ]; then
    extras="$(printf '%s\n%s\n' "$wanted" "$have" | sed '/^$/d' | sort -u | paste -sd, -)"
    echo "Installing Verbatim${extras:+ with $extras} into .venv (the first time takes a few minutes)..."
    # -qq: errors only (a pip configuration's notes on index folders it lacks are not ours to show); the build
    # backend's note about editable installs concerns folders named like the package: here that is the package
    export PYTHONWARNINGS="ignore::UserWarning" PIP_DISABLE_PIP_VERSION_CHECK=1
    .venv/bin/python -m pip install -qq --upgrade pip
    .venv/bin/python -m pip install -qq -c constraints.txt -e ".${extras:+[$extras]}"
    rm -f .venv/.installed-*
    echo "$extras" | tr ',' '\n' | sed '/^$/d' > "$stamp"
fi
