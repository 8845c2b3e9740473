#!/usr/bin/env bash
# Install autodocket with its test tools and run the CPU test suite (GPU tests are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bubblewrap.sh
bash scripts/browser.sh
python3 -c "import torch" 2>/dev/null || python3 -m pip install -q "torch==2.13.0"
python3 -m pip install -q -e ".[dev]"
# two processes (most tests wait on subprocesses); a file's tests stay in one process, in order
python3 -m pytest -m "not gpu" -q -p no:cacheprovider -n 2 --dist loadfile "$@"
