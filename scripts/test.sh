#!/usr/bin/env bash
# The one command that installs everything and runs every test.
# Works on a fresh Debian machine (no GPU; network only to PyPI and Debian apt).
# Usage: bash scripts/test.sh [pytest args...]   e.g.  bash scripts/test.sh -m "not slow"
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() { printf '\n==== %s ====\n' "$*"; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

section "python virtual environment (.venv)"
if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv; then
        # Debian ships venv/ensurepip separately from python3.
        echo "python3 -m venv failed; installing Debian's python3-venv"
        rm -rf .venv
        apt_install python3-venv
        python3 -m venv .venv
    fi
    echo "created .venv with $(.venv/bin/python --version)"
else
    echo "using existing .venv ($(.venv/bin/python --version))"
fi

section "pip install -r requirements-dev.txt"
.venv/bin/python -m pip install -r requirements-dev.txt

section "chromium (Debian package, for the browser tests)"
if [ -x /usr/bin/chromium ]; then
    echo "found /usr/bin/chromium"
else
    echo "installing Debian's chromium (and fonts-liberation, for readable screenshots) with apt-get"
    apt_install chromium fonts-liberation
    if [ ! -x /usr/bin/chromium ]; then
        echo "apt-get finished but /usr/bin/chromium is missing" >&2
        exit 1
    fi
fi

# One torch/OpenMP thread per process (faster on few cores than the default).
export OMP_NUM_THREADS=1

section "ruff check ."
.venv/bin/ruff check .

section "pytest"
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
section "pytest exit status: $status"
exit "$status"
