#!/usr/bin/env bash
# Install autodocket and run it on the example lab (a scratch copy; the example stays clean).
set -euo pipefail
cd "$(dirname "$0")/.."
# A CPU machine takes the local CPU build of torch; a GPU machine keeps the torch it has.
python3 -c "import torch" 2>/dev/null || python3 -m pip install -q "torch==2.13.0"
python3 -m pip install -q -e .
lab="$(mktemp -d)/lab"
cp -r examples/lab "$lab"
git -C "$lab" init -q -b main && git -C "$lab" add -A && \
  git -C "$lab" -c user.name=demo -c user.email=demo@example.invalid commit -q -m "example lab"
echo "example lab: $lab"
cd "$lab"
autodocket show
autodocket next
# audit exits 1 when it finds claims without evidence: that is its finding, not a failure here
autodocket audit || true
