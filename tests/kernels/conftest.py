import pytest


@pytest.fixture
def gpu_search(monkeypatch):
    """`solve` as on a GPU, without one: the screen answers the given results, the harness
    rejects the first candidate it judges and finds the others correct, the verifier proves
    everything, and the compiler seed is the given source (or cannot be written). Returns the
    list the judged candidates' file names go into."""
    import kernels.library
    import tools.bench
    import tools.bench.screen
    import tools.verify
    from kernels.seed import Seed
    from tools.bench import BenchReport
    from tools.verify import VerifyReport
    judged: list[str] = []

    def fake_bench(problem, kernel, *, device, repeats=100, baselines=True, **_):
        judged.append(kernel.name)
        status = "rejected" if len(judged) == 1 else "correct"
        return BenchReport(status, timing={"sets": [
            {"input_set": "default", "first": {"kernel": {"median_ms": 1.5}}}]},
            rejections=[{"reason": "incorrect", "detail": "set1"}] if status == "rejected"
            else [])

    def stub(screened: list[dict], seed_source: str | None = None) -> list[str]:
        monkeypatch.setattr(tools.bench.screen, "screen", lambda problem, kernels: screened)
        monkeypatch.setattr(tools.bench, "bench", fake_bench)
        monkeypatch.setattr(tools.bench, "resolve_device", lambda device: "cuda")
        monkeypatch.setattr(tools.verify, "verify", lambda problem, kernel, launches=None:
                            VerifyReport("proved", [], []))
        monkeypatch.setattr(kernels.library, "compiler_seed", lambda problem, device, tuning:
                            Seed(source=seed_source, reason=None if seed_source else
                                 "not here"))
        return judged
    return stub
