#!/usr/bin/env bash
# On a GPU machine: run the loop on the example lab (offline backend, with timing) and print
# the pull requests. Results go to ${OUT:-/tmp}/gpu_loop/.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp}/gpu_loop"
mkdir -p "$out"
lab="$(mktemp -d)/lab"
cp -r examples/lab "$lab"
git -C "$lab" init -q -b main && git -C "$lab" add -A && \
  git -C "$lab" -c user.name=demo -c user.email=demo@example.invalid commit -q -m "example lab"
cd "$lab"
python3 -m agents.cli run --max-tasks 4 --device cuda --search-budget "${SEARCH_BUDGET:-1}" \
  2>&1 | tee "$out/run.log"
python3 -m agents.cli prs --json > "$out/prs.json"
for b in $(git branch --list 'autodocket/*' --format '%(refname:short)'); do
  id="${b#autodocket/}"
  git show "$b:results/$id/evidence.json" > "$out/$id.evidence.json" || true
done
python3 -m agents.cli prs
