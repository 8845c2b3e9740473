"""A candidate that builds C++/CUDA keeps its build in a folder keyed by its own content: its
next sandboxed process finds it there, a different candidate never sees it, and a Triton-only
candidate gets none. The verifier says plainly that it does not read C++/CUDA."""
import pytest

from tools.sandbox import Sandbox
from tools.verify import verify

NATIVE = ("from torch.utils.cpp_extension import load_inline\n"
          "ext = load_inline(name='scale', cpp_sources='', cuda_sources='__global__ void k(){}')\n")
WRITE = ("import os, pathlib; d = pathlib.Path(os.environ['TORCH_EXTENSIONS_DIR']); "
         "(d / 'built.so').write_text('{}')")
READ = ("import os, pathlib; d = os.environ.get('TORCH_EXTENSIONS_DIR'); "
        "print('sees', d and pathlib.Path(d, 'built.so').is_file() and "
        "pathlib.Path(d, 'built.so').read_text())")


def _run(kernel, code, tmp_path):
    box = Sandbox(timeout=60)
    box.cache_extensions_of(kernel)
    try:
        run = box.run(["-c", code])
        assert run.ok, run.reason()
        return run.stdout.strip()
    finally:
        box.close()


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_a_kernels_build_is_kept_for_its_own_next_process_only(tmp_path):
    first, other, triton_only = (tmp_path / n for n in ("a.py", "b.py", "c.py"))
    first.write_text(NATIVE.replace("scale", "scale_a").replace("{}", "a"))
    other.write_text(NATIVE.replace("scale", "scale_b"))
    triton_only.write_text("import triton\n")
    _run(first, WRITE.replace("{}", "built by a"), tmp_path)
    assert _run(first, READ, tmp_path) == "sees built by a"
    assert _run(other, READ, tmp_path) == "sees False"
    assert _run(triton_only, READ, tmp_path) == "sees None"


def test_the_verifier_says_it_does_not_read_cuda(tmp_path):
    kernel, problem = tmp_path / "k.py", tmp_path / "p.py"
    kernel.write_text(NATIVE)
    problem.write_text("import torch\n")
    report = verify(problem, kernel)
    assert report.status == "unsupported"
    assert "compute-sanitizer" in report.unsupported[0]
