"""Configurations per shape class: the screen's per-set times composed into one table, the
rendered kernel choosing from it per call (run under the interpreter), and `solve` judging the
composed candidate first on a GPU (screen and harness stubbed: no GPU here)."""
import json
import subprocess
import sys

from kernels.library import CATALOG, match, render, solve
from kernels.shapes import BY_SHAPE, composed, composed_times, ranked_by_every_set
from tools.bench.runtime import shape_class

A = {"MAX_SINGLE": 16384, "BLOCK": 4096, "WARPS_PER_KB": 2}
B = {"MAX_SINGLE": 8192, "BLOCK": 2048, "WARPS_PER_KB": 4}
CLASSES = {"default": "8192x8192", "set1": "4096x1024", "set2": "64x32768"}


def test_each_sets_fastest_configuration_goes_into_the_table():
    times = [{"default": 1.0, "set1": 0.30, "set2": 0.20},
             {"default": 1.2, "set1": 0.25, "set2": 0.21}]
    assert composed([A, B], times, CLASSES) == {**A, BY_SHAPE: {"4096x1024": B}}
    # one configuration fastest everywhere: nothing to compose
    assert composed([A, B], [{"default": 1.0, "set1": 0.2}, {"default": 1.1, "set1": 0.3}],
                    CLASSES) is None
    # a set of the default's class keeps the default
    assert composed([A, B], times, {**CLASSES, "set1": "8192x8192"}) is None
    assert shape_class((33, 4096)) == "64x4096" and shape_class((7,)) == "8"


def test_the_rendered_kernel_reads_its_configuration_per_shape_class(tmp_path):
    found = match(CATALOG / "softmax.py")
    kernel = tmp_path / "kernel.py"
    kernel.write_text(render(found, {**A, BY_SHAPE: {"8x64": B}}))
    script = (
        "import json, sys, torch\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import kernel\n"
        "model = kernel.ModelNew()\n"
        "out = {}\n"
        "for shape in [(7, 33), (5, 20)]:\n"
        "    x = torch.randn(shape)\n"
        "    ok = torch.allclose(model(x), torch.softmax(x, -1), atol=1e-5)\n"
        "    out[str(shape)] = [ok, kernel.config_for(x)['WARPS_PER_KB']]\n"
        "print(json.dumps(out))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, env={"TRITON_INTERPRET": "1", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr[-2000:]
    said = json.loads(run.stdout.strip().splitlines()[-1])
    assert said == {"(7, 33)": [True, 4], "(5, 20)": [True, 2]}  # 8x64 is B's class


def test_candidates_are_ranked_by_their_times_on_every_set():
    """Fastest on the default set is not enough: the seed here (1) is fastest there by 10% and
    40% slower than the best on set1; the composed kernel (3) is within 11% on the default set
    and fastest on set1, and goes first."""
    times = [{"default": 1.0, "set1": 0.30}, {"default": 0.9, "set1": 0.35},
             {"default": 1.2, "set1": 0.25}, {"default": 1.0, "set1": 0.25}]
    assert ranked_by_every_set(times) == [3, 0, 2, 1]  # 0 and 2 tie: the faster default first
    # one set alone: fastest first; untimed on a set another was timed on: last
    assert ranked_by_every_set([{"default": 2.0}, {"default": 1.0}]) == [1, 0]
    assert ranked_by_every_set([{"default": 1.0}, {"default": 2.0, "set1": 1.0}]) == [1, 0]
    # a set moving under 1 MB counts only where no set moves more, and then to break a tie: 0
    # and 3 take the same time on the default set, 3 is faster on the small set1
    small = {"default": 64 << 20, "set1": 4096}
    assert ranked_by_every_set(times, small) == [1, 3, 0, 2]
    # run-10's matmul (H200): the composed candidate (1) is the default (0) on the large sets and
    # faster on the two small ones; it used to lose the tie by coming second
    matmul = [{"default": 1.4591, "set1": 0.1574, "set2": 0.0106, "set3": 0.0209},
              {"default": 1.4591, "set1": 0.1574, "set2": 0.0074, "set3": 0.0108}]
    moved = {"default": 400 << 20, "set1": 120 << 20, "set2": 20_000, "set3": 8_000}
    assert ranked_by_every_set(matmul, moved) == [1, 0]
    assert ranked_by_every_set(matmul[:1] + [{**matmul[1], "set3": None}], moved) == [0, 1]
    assert ranked_by_every_set(times, {"default": 4096, "set1": 4096}) == [3, 0, 2, 1]
    config = {**A, BY_SHAPE: {"4096x1024": B}}
    assert composed_times(config, [A, B], times[:1] + times[2:3], CLASSES) == {
        "default": 1.0, "set1": 0.25, "set2": None}


def test_on_a_gpu_the_composed_candidate_is_judged_before_a_seed_fast_on_one_set_only(
        tmp_path, monkeypatch, gpu_search):
    """Screened in offering order: template A (fastest template on the default set), the
    compiler seed (fastest of all there, slowest on set1), template B (fastest on set1). The
    composed kernel, A with B for set1's class, is nearest the fastest on every set: judged
    first (the stub harness rejects it), then A and B, then the seed."""
    import kernels.library

    def said(times):
        return {"status": "ok", "median_ms": times["default"], "detail": "",
                "by_set": {k: {"class": CLASSES[k], "median_ms": t} for k, t in times.items()}}
    judged = gpu_search([said({"default": 1.0, "set1": 0.30}),
                         said({"default": 0.9, "set1": 0.35}),
                         said({"default": 1.2, "set1": 0.25})], seed_source="# the seed\n")
    monkeypatch.setattr(kernels.library, "GPU_TUNINGS", kernels.library.GPU_TUNINGS[:1])
    monkeypatch.setattr(kernels.library, "configs", lambda template, budget: [A, B])
    result = solve(CATALOG / "softmax.py", tmp_path / "k.py", device="cuda", budget=2,
                   final_check=False)
    assert judged == ["candidate_per_shape_class.py", "candidate_0.py"]
    assert result.status == "solved" and result.config == A
    assert [(a.origin, a.screen, a.correct) for a in result.attempts] == [
        ("template", "ok", True), ("compiler seed", "ok", False), ("template", "ok", False),
        ("template", "composed", False)]
    assert result.attempts[3].config == {**A, BY_SHAPE: {"4096x1024": B}}
    assert result.attempts[3].screen_ms == 1.0  # A's time on the default set
    assert result.attempts[3].screen_by_set == {"default": 1.0, "set1": 0.25}  # A's, then B's
    assert result.attempts[1].screen_by_set == {"default": 0.9, "set1": 0.35}


def test_every_shape_aware_template_reads_its_table_per_call():
    """A template marked SHAPE_AWARE renders the table and calls `config_for` (a composed
    candidate whose kernel ignored its table would be judged as something it is not); one not
    marked renders no table."""
    seen = set()
    for problem in sorted(CATALOG.glob("*.py")):
        found = match(problem)
        if found is None or found.family in seen:
            continue
        seen.add(found.family)
        default = found.template.DEFAULT
        source = render(found, {**default, BY_SHAPE: {"2x2": default}})
        aware = getattr(found.template, "SHAPE_AWARE", False)
        assert ("'2x2':" in source and source.count("config_for(") >= 2) == aware, found.family
    assert {"moe_routing", "quant_int3", "quant_int"} <= seen
