#!/usr/bin/env bash
# On a GPU machine: run the loop on the example lab (offline backend, with timing), list the
# pull requests, approve the softmax one and reproduce its measurement. Results go to
# ${OUT:-/tmp}/gpu_loop/: run.log, prs.json, <task>.evidence.json, the softmax REPORT.md and
# speedup.png, reproduce.json.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp}/gpu_loop"
mkdir -p "$out"
lab="$(mktemp -d)/lab"
cp -r examples/lab "$lab"
git -C "$lab" init -q -b main && git -C "$lab" add -A && \
  git -C "$lab" -c user.name=demo -c user.email=demo@example.invalid commit -q -m "example lab"
cd "$lab"
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid \
  GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid
python3 -m agents.cli run --max-tasks "${MAX_TASKS:-4}" --device cuda \
  --search-budget "${SEARCH_BUDGET:-1}" 2>&1 | tee "$out/run.log"
python3 -m agents.cli prs --json > "$out/prs.json"
for b in $(git branch --list 'autodocket/*' --format '%(refname:short)'); do
  id="${b#autodocket/}"
  git show "$b:results/$id/evidence.json" > "$out/$id.evidence.json" || true
done
python3 -m agents.cli prs
task=fused-row-softmax
git show "autodocket/$task:results/$task/REPORT.md" > "$out/REPORT.md"
git show "autodocket/$task:results/$task/speedup.png" > "$out/speedup.png" || true
python3 -m agents.cli approve "$task"
python3 -m agents.cli reproduce "$task" --device cuda --json > "$out/reproduce.json" || true
python3 -m agents.cli reproduce "$task" --device cuda || true
