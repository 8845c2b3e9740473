#!/usr/bin/env bash
# Install autodocket and run its loop on the example lab, in a scratch git repository: the
# offline backend (no model needed), SQLite, and the GPU if there is one (else the CPU,
# correctness only). Ends with the pull requests the agents opened.
set -euo pipefail
cd "$(dirname "$0")/.."
# A CPU machine takes the local CPU build of torch; a GPU machine keeps the torch it has.
bash scripts/bubblewrap.sh
python3 -c "import torch" 2>/dev/null || python3 -m pip install -q "torch==2.13.0"
python3 -m pip install -q -e .
lab="$(mktemp -d)/lab"
cp -r examples/lab "$lab"
git -C "$lab" init -q -b main && git -C "$lab" add -A && \
  git -C "$lab" -c user.name=demo -c user.email=demo@example.invalid commit -q -m "example lab"
echo "example lab: $lab"
cd "$lab"
autodocket run --max-tasks 5
autodocket prs
echo "next: cd $lab && autodocket approve TASK_ID  (or: autodocket reject TASK_ID --reason ...)"
