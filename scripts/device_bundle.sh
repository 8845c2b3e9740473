#!/usr/bin/env bash
# Build what a run on the GPU machine (the `device` tool: no network, torch/Triton/numpy already
# there) carries: .whl (our Python dependencies it lacks, for CPython 3.12), .deb (bubblewrap and
# libcap2, unpacked there with dpkg -x) and .dev/setup.sh (installs both; source it first).
# All three are ignored by git (.git/info/exclude). Carry [".whl", ".deb", ".dev"].
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || printf '/.whl/\n/.deb/\n/.dev/\n' >> .git/info/exclude
rm -rf .whl .deb && mkdir -p .whl .deb .dev
# with their dependencies resolved for the device's Python; what it has already is removed after
python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  $(for n in 24 27 31 34 35 38 39; do echo --platform manylinux_2_${n}_x86_64; done) \
  --platform manylinux2014_x86_64 --platform any -d .whl \
  "z3-solver==5.4.1.0" "langgraph>=1.2,<2" "langgraph-checkpoint-sqlite>=3.0" \
  "sqlalchemy>=2.0,<3" "alembic>=1.13" "gitpython>=3.1.40" "typer>=0.12" "rich>=13"
# the device's own copies of these stay in charge (a second numpy would shadow torch's), and
# leaving the pure-Python ones it has (the device's KINDS.md lists them) keeps the working tree
# under the 64 MiB a call carries
(cd .whl && rm -f numpy-* torch-* triton-* nvidia_* typing_extensions-* jinja2-* markupsafe-* \
  setuptools-* filelock-* fsspec-* sympy-* mpmath-* networkx-* packaging-* requests-* \
  urllib3-* certifi-* idna-* charset_normalizer-* pygments-* pyyaml-* markdown_it_py-* mdurl-*)
(cd .deb && apt-get download -q bubblewrap libcap2 >/dev/null)
cat > .dev/setup.sh <<'EOF'
# source on the GPU machine from the repository root: our wheels, bubblewrap, a git identity
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /var/tmp/adsite .whl/*.whl
export PYTHONPATH=/var/tmp/adsite:$PWD${PYTHONPATH:+:$PYTHONPATH}
for d in .deb/*.deb; do dpkg -x "$d" /var/tmp/bw; done
export PATH=/var/tmp/bw/usr/bin:$PATH
export LD_LIBRARY_PATH=/var/tmp/bw/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GIT_AUTHOR_NAME=autodocket GIT_AUTHOR_EMAIL=autodocket@example.invalid
export GIT_COMMITTER_NAME=autodocket GIT_COMMITTER_EMAIL=autodocket@example.invalid
export PYTHONUNBUFFERED=1
EOF
du -sh .whl .deb
