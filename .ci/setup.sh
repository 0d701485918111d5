#!/usr/bin/env bash
# One-time set-up: a CPU torch when none is installed (the wheel on disk), then synthaug with its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python -c "import torch" >/dev/null 2>&1; then
    python -m pip install -q torch==2.13.0
fi
python -m pip install -q -e ".[dev]"
