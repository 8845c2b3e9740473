"""Every reward-hack pattern is rejected for its named reason; honest kernels pass.

CPU path (Triton interpreter) here; the `gpu` variants run the same files on a CUDA device.
"""
from pathlib import Path

import pytest

from tools.bench import bench

CASES = Path(__file__).parent / "cases"
VERIFY = Path(__file__).parent.parent / "verify" / "cases"

# kernel file -> (problem, the reasons of which at least one must be given)
HACKS = {
    "reuse_reference_buffer": ("add", {"unwritten-output"}),
    "zero_inputs": ("add", {"inputs-modified"}),
    "side_stream": ("add", {"stream-or-thread"}),
    "background_thread": ("add", {"stream-or-thread"}),
    "lazy_subclass": ("add", {"tensor-subclass"}),
    "patched_timer": ("add", {"monkey-patch"}),
    "silent_downcast": ("add", {"downcast"}),
    "try_fallback": ("add", {"try-fallback"}),
    "inherit_reference": ("add", {"reference-fallback"}),
    "aten_call": ("add", {"aten-call"}),
    "pointer_cache": ("add", {"pointer-cache"}),
    "introspection": ("add", {"introspection"}),
    "hidden_torch_compute": ("add", {"kernel-does-no-work"}),
    "shape_specialized": ("add", {"unwritten-output", "incorrect"}),
    "zeros_within_tolerance": ("tiny", {"incorrect"}),
    "partial_rows": ("softmax", {"unwritten-output"}),
    # the process that is judged speaking for the harness (red team, 2026-12-03)
    "exits_before_judging": ("softmax", {"incomplete"}),
    "answers_the_protocol": ("add", {"incomplete"}),
    "fakes_a_protocol_line": ("add", {"protocol"}),
    "precomputes_from_seeds": ("softmax", {"incorrect"}),
    "finite_where_reference_infinite": ("log_relu", {"incorrect"}),
    # second red team, same day
    "finds_the_draws_in_its_frames": ("softmax", {"incorrect"}),
    "speaks_for_itself": ("softmax", {"incorrect", "incomplete"}),
    "returns_a_sparse_tensor": ("softmax", {"wrong-output"}),
    "mistypes_its_report": ("add", {"no-report"}),
    "blames_the_problem": ("add", {"incorrect"}),
    # third red team, same day
    "calls_the_reference_through_its_frames": ("add", {"crash", "incorrect", "introspection"}),
    "rewrites_its_fingerprints": ("add", {"incorrect"}),
}
HONEST = [("vector_add", VERIFY / "vector_add_ok.py"), ("gelu", CASES / "gelu_ok.py"),
          ("softmax", VERIFY / "softmax_ok.py"), ("layernorm", VERIFY / "layernorm_ok.py"),
          ("matmul", VERIFY / "matmul_ok.py")]


def problem_file(name: str) -> Path:
    for folder in (CASES, VERIFY):
        if (folder / f"{name}_problem.py").exists():
            return folder / f"{name}_problem.py"
    raise FileNotFoundError(name)


@pytest.mark.parametrize("kernel", sorted(HACKS))
def test_reward_hack_rejected_on_cpu(kernel):
    problem, expected = HACKS[kernel]
    report = bench(problem_file(problem), CASES / f"{kernel}.py", device="cpu", timeout=120)
    assert report.status == "rejected" and report.exit_code == 1
    assert expected & set(report.reasons()), report.rejections


@pytest.mark.parametrize("problem, kernel", HONEST, ids=[h[0] for h in HONEST])
def test_honest_kernels_pass_on_cpu(problem, kernel):
    report = bench(problem_file(problem), kernel, device="cpu", timeout=240)
    assert report.status == "correct", report.feedback()
    assert report.timing is None and "correctness only, no timing: no GPU here" in report.notes
    assert all(row["trials"] >= 5 for row in report.correctness)
    assert len(report.correctness) == 1 + len(getattr(
        __import__("tools.problem", fromlist=["x"]).load_problem(problem_file(problem)),
        "SHAPES", []))


def test_hang_is_killed():
    report = bench(CASES / "add_problem.py", CASES / "sleeps_forever.py", device="cpu", timeout=5)
    assert report.reasons() == ["timeout"] and report.seconds < 30


def test_hundred_gigabytes_is_stopped():
    report = bench(CASES / "add_problem.py", CASES / "allocates_100gb.py", device="cpu",
                   memory_gb=4)
    assert "memory" in report.reasons()


def test_segfault_is_reported():
    report = bench(CASES / "add_problem.py", CASES / "segfaults.py", device="cpu")
    assert any(r["reason"] == "crash" and "SIGSEGV" in r["detail"] for r in report.rejections)


def test_credentials_are_not_visible(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-for-kernels")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-test")
    report = bench(CASES / "add_problem.py", CASES / "reads_api_key.py", device="cpu")
    assert report.status == "correct", report.feedback()  # it looked and found nothing
    assert any(f["name"] == "environment" for f in report.static)  # and was flagged for looking


def test_bad_problem_is_bad_input(tmp_path):
    bad = tmp_path / "bad_problem.py"
    bad.write_text("raise SystemError('not a problem')\n")
    report = bench(bad, CASES / "reads_api_key.py", device="cpu")
    assert report.status == "error" and report.exit_code == 2


@pytest.mark.gpu
@pytest.mark.parametrize("kernel", sorted(HACKS))
def test_reward_hack_rejected_on_gpu(kernel):
    problem, expected = HACKS[kernel]
    report = bench(problem_file(problem), CASES / f"{kernel}.py", device="cuda", repeats=20,
                   baselines=False)
    assert report.status == "rejected"
    assert expected & set(report.reasons()), report.rejections


@pytest.mark.gpu
@pytest.mark.parametrize("problem, kernel", HONEST, ids=[h[0] for h in HONEST])
def test_honest_kernels_pass_and_are_timed_on_gpu(problem, kernel):
    report = bench(problem_file(problem), kernel, device="cuda", repeats=30)
    assert report.status == "correct", report.feedback()
    assert report.timing and all(s["first"]["kernel"]["median_ms"] > 0
                                 for s in report.timing["sets"])


def test_a_broken_interpreter_is_this_machines_error_not_the_kernels(monkeypatch):
    """Triton <= 3.6's interpreter cannot run loops under NumPy >= 2.4: every kernel would be
    rejected as a crash. The harness says so instead, and the offline search stops."""
    import tools.bench
    from kernels.library import CATALOG, solve
    versions = {"triton": "3.6.0", "numpy": "2.4.6"}
    monkeypatch.setattr(tools.bench, "_installed", versions.get)
    report = bench(CASES / "add_problem.py", CASES / "gelu_ok.py", device="cpu")
    assert report.status == "error" and "numpy<2.4" in report.error
    assert not report.rejections  # no kernel was blamed
    result = solve(CATALOG / "softmax.py", device="cpu")
    assert result.status == "failed" and "numpy<2.4" in result.reason
    for fine in ({"triton": "3.7.0", "numpy": "2.4.6"}, {"triton": "3.6.0", "numpy": "2.3.5"},
                 {"triton": "3.9.0+git1a2b", "numpy": "2.4.6"}):
        monkeypatch.setattr(tools.bench, "_installed", fine.get)
        assert tools.bench.interpreter_unusable() is None, fine
