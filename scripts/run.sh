#!/usr/bin/env bash
# The one command that installs and starts Earthmover.
# Usage: bash scripts/run.sh [streamlit args...]   e.g.  bash scripts/run.sh --server.port 8502
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -r requirements.txt

# One torch/OpenMP thread per process: faster on few cores, and the training
# workers do not fight the Streamlit server for the CPU.
export OMP_NUM_THREADS=1
exec .venv/bin/streamlit run app.py "$@"
