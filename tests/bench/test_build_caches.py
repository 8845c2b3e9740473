"""Builds shared between one file's own sandboxed runs, keyed by its content: a C++/CUDA
candidate's extension (its next process finds it, a different candidate never sees it, a
Triton-only candidate gets none), a reference's torch.compile caches (the same problem's next
run finds them, another problem's does not) and the Triton kernels a problem's screens compiled
(its candidates get a copy); a build's lock file left by a killed build does
not block the next one. The verifier says plainly that it does not read
C++/CUDA."""
import pytest

from tools.sandbox import Sandbox
from tools.verify import verify

NATIVE = ("from torch.utils.cpp_extension import load_inline\n"
          "ext = load_inline(name='scale', cpp_sources='', cuda_sources='__global__ void k(){}')\n")
WRITE = ("import os, pathlib; d = pathlib.Path(os.environ['TORCH_EXTENSIONS_DIR']); "
         "d.mkdir(parents=True, exist_ok=True); (d / 'built.so').write_text('{}')")
READ = ("import os, pathlib; d = os.environ.get('TORCH_EXTENSIONS_DIR'); "
        "print('sees', d and pathlib.Path(d, 'built.so').is_file() and "
        "pathlib.Path(d, 'built.so').read_text())")


def _run(kernel, code, tmp_path, share="cache_extensions_of"):
    box = Sandbox(timeout=60)
    getattr(box, share)(kernel)
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


def test_a_build_lock_left_by_a_killed_build_is_removed_but_a_live_one_is_kept(tmp_path):
    """torch's cpp_extension waits forever on a `lock` file a killed build left behind: the
    next sandbox of that kernel removes it, unless another sandbox of it is still open."""
    kernel = tmp_path / "k.py"
    kernel.write_text(NATIVE)
    killed = Sandbox(timeout=60)
    killed.cache_extensions_of(kernel)
    baton = killed.builds / "scale" / "lock"
    baton.parent.mkdir()
    baton.write_text("")  # as a build stopped half-way leaves it
    beside = Sandbox(timeout=60)
    beside.cache_extensions_of(kernel)  # another run of it, while the first is open
    assert baton.exists()
    killed.close()
    beside.close()
    later = Sandbox(timeout=60)
    later.cache_extensions_of(kernel)  # nobody uses the folder now: the lock is stale
    try:
        assert not baton.exists() and baton.parent.is_dir()
    finally:
        later.close()


def test_a_problems_compile_caches_are_kept_for_its_own_next_reference_only(tmp_path):
    problem, other = tmp_path / "p.py", tmp_path / "q.py"
    problem.write_text("import torch\n")
    other.write_text("import torch  # another problem\n")
    write = WRITE.replace("TORCH_EXTENSIONS_DIR", "TORCHINDUCTOR_CACHE_DIR")
    read = READ.replace("TORCH_EXTENSIONS_DIR", "TORCHINDUCTOR_CACHE_DIR")
    _run(problem, write.replace("{}", "compiled for p"), tmp_path, "cache_compiles_of")
    assert _run(problem, read, tmp_path, "cache_compiles_of") == "sees compiled for p"
    assert _run(other, read, tmp_path, "cache_compiles_of") == "sees False"
    triton_cache = "import os; print(os.environ['TRITON_CACHE_DIR'])"
    assert _run(problem, triton_cache, tmp_path, "cache_compiles_of").endswith("/triton")


def test_a_problems_screens_lend_their_triton_kernels_as_a_copy(tmp_path):
    """The screens of a problem keep the Triton kernels they compile; the harness's candidate
    of that problem gets a copy as its own Triton cache (its kernels load instead of compiling
    under its hold on the card), changes only the copy, and another problem's gets none."""
    problem, other = tmp_path / "p.py", tmp_path / "q.py"
    problem.write_text("import torch\n")
    other.write_text("import torch  # another problem\n")
    kernel = ("import os, pathlib; d = pathlib.Path(os.environ['TRITON_CACHE_DIR']); "
              "d.mkdir(parents=True, exist_ok=True); (d / 'k.cubin').write_text('{}')")
    _run(problem, kernel.replace("{}", "screened"), tmp_path, "cache_screen_compiles_of")
    read = ("import os, pathlib; f = pathlib.Path(os.environ['TRITON_CACHE_DIR'], 'k.cubin'); "
            "print('sees', f.is_file() and f.read_text()); f.is_file() and f.write_text('changed')")
    assert _run(problem, read, tmp_path, "borrow_screen_compiles") == "sees screened"
    assert _run(problem, read, tmp_path, "borrow_screen_compiles") == "sees screened"  # a copy
    assert _run(other, read, tmp_path, "borrow_screen_compiles") == "sees False"


def test_the_verifier_says_it_does_not_read_cuda(tmp_path):
    kernel, problem = tmp_path / "k.py", tmp_path / "p.py"
    kernel.write_text(NATIVE)
    problem.write_text("import torch\n")
    report = verify(problem, kernel)
    assert report.status == "unsupported"
    assert "compute-sanitizer" in report.unsupported[0]
