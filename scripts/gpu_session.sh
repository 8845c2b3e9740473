#!/usr/bin/env bash
# One device call's worth of issue-20 measurements on a GPU machine (the `device` tool; carry
# .whl .deb .dev from scripts/device_bundle.sh): the card and versions, then, as asked,
#   GPUTESTS=1  the GPU tests (GPUTEST_PATHS, default tests/adversarial tests/profile tests/bench)
#   VERIFY=1    the verifier over the catalog (about 6 s a kernel on the H200, a fresh sandbox each)
#   and unless NO_KL=1 the kernel library at budget 16 over the catalog (JOBS, default 17; ONLY)
# each bounded by its own limit (GPUTESTS_LIMIT, VERIFY_LIMIT, KL_LIMIT seconds) so that the call
# returns what finished. Logs and JSON go to $OUT (what the call brings back).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp}"
source .dev/setup.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
if [ -n "${GPUTESTS:-}" ]; then
  # 520 s: the 28 tests took 288 s on the H200 (2026-12-03d), and the trust-chain test's loop
  # node has since taken the full measurement, baselines included (171 s alone, 2026-12-03e)
  timeout "${GPUTESTS_LIMIT:-520}" python3 -m pytest -m gpu -n 4 --timeout 300 -q \
    ${GPUTEST_PATHS:-tests/adversarial tests/profile tests/bench} > "$out/gputests.log" 2>&1
  echo "gpu tests: exit $?"; tail -30 "$out/gputests.log"
fi
if [ -n "${VERIFY:-}" ]; then
  timeout "${VERIFY_LIMIT:-240}" python3 benchmarks/verify_speed.py --catalog --json "$out/verify_catalog.json" \
    2>&1 | tail -25
fi
if [ -z "${NO_KL:-}" ]; then
  timeout "${KL_LIMIT:-520}" python3 benchmarks/kernel_library.py --budget 16 \
    --jobs "${JOBS:-17}" ${ONLY:+--only "$ONLY"} --json "$out/kernel_library.json" \
    > "$out/kernel_library.log" 2>&1
  echo "kernel library: exit $?"; tail -50 "$out/kernel_library.log"
fi
