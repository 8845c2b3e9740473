"""How fast the Z3 verifier proves the test corpus, and what it proves.

    python benchmarks/verify_speed.py [--catalog | --seeds DIR...] [--json FILE.json]

For each kernel in tests/verify/cases (with --catalog: the offline coder's first candidate for
each catalog problem, the template's default configuration rendered for this machine's
device, as `solve` would write it; with --seeds: the compiler seed of every problem file in the
directories, in its GPU form: on a GPU Inductor's CUDA code, on a CPU the CPU's Inductor code
written for the GPU, libdevice calls kept): the verdict, the wall time of one verification on
its own (a fresh sandbox that runs the candidate to record its launches, then the analysis:
tracing, TTIR compile, all queries; cache off), the verification's time in a search (the harness's
candidate process has recorded the launches already: the analysis in a job of the warm
verifier zygote), the summed solver time and the slowest query. Goals: median under 1 s, none
over 10 s (issue 3, on the CPU; issue 20, in a search on the H200).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.provenance import commit  # noqa: E402
from tools.sandbox import zygote  # noqa: E402
from tools.verify import record_launches, verify  # noqa: E402

CASES = Path(__file__).resolve().parent.parent / "tests" / "verify" / "cases"


def problem_for(kernel: Path) -> Path:
    for problem in sorted(CASES.glob("*_problem.py"), key=lambda p: -len(p.stem)):
        family = problem.stem[: -len("_problem")]
        if kernel.stem.startswith(family):
            return problem
    text = kernel.read_text()
    for family, marker in (("vector_add", "add_kernel"), ("softmax", "softmax_kernel"),
                           ("transpose", "transpose_kernel"), ("matmul", "matmul_kernel")):
        if marker in text:
            return CASES / f"{family}_problem.py"
    raise LookupError(kernel)


def test_corpus():
    return [(problem_for(k), k) for k in sorted(CASES.glob("*.py"))
            if not k.stem.endswith("_problem")]


def _kernel_files(folder: str, problems, source_of) -> list[tuple[Path, Path]]:
    """(problem, kernel file) for each problem `source_of` gives a source for (it answers
    (source, None) or (None, why)); the kernels are written under benchmarks/results/FOLDER."""
    out = Path("benchmarks/results") / folder
    out.mkdir(parents=True, exist_ok=True)
    pairs = []
    for problem in problems:
        source, why = source_of(problem)
        if source is None:
            print(f"{problem.stem}: {why}", flush=True)
            continue
        kernel = out / f"{problem.stem}_kernel.py"
        kernel.write_text(source)
        pairs.append((problem, kernel))
    return pairs


def catalog_kernels():
    """Each catalog problem with its template's default, rendered for this machine's device
    (on a GPU the persistent kernels size their grids to the card)."""
    import torch

    from kernels.library import CATALOG, offerings
    device = "cuda" if torch.cuda.is_available() else "cpu"

    def template_default(problem):
        offer = next(offerings(problem, device, 1, origins=("template",)), None)
        return (offer.source, None) if offer else (None, "no template fits it")
    return _kernel_files("verify_catalog", sorted(CATALOG.glob("*.py")), template_default)


def suite_seeds(dirs: list[Path]):
    """Each problem's compiler seed as a GPU runs it (issue 19: the verifier must handle them)."""
    import torch

    from kernels.seed import compiler_seed
    on_gpu = torch.cuda.is_available()

    def gpu_form(problem):
        seed = compiler_seed(problem, "cuda" if on_gpu else "cpu",
                             written_for=None if on_gpu else "cuda")
        return seed.source, f"no seed: {seed.reason}"
    problems = sorted(p for d in dirs for p in d.glob("*.py") if p.stem != "__init__")
    return _kernel_files("verify_seeds", problems, gpu_form)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", action="store_true",
                    help="the catalog's template kernels instead of the test corpus")
    ap.add_argument("--seeds", type=Path, nargs="+", metavar="DIR",
                    help="the compiler seeds (GPU form) of these directories' problem files")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/verify_speed.json"))
    args = ap.parse_args()
    pairs = (catalog_kernels() if args.catalog else suite_seeds(args.seeds) if args.seeds
             else test_corpus())
    zygote()  # started once per process, as in a search: not charged to the first kernel
    rows = []
    for problem, kernel in pairs:
        start = time.perf_counter()
        launches = record_launches(problem, kernel)
        recorded = time.perf_counter()
        report = verify(problem, kernel, use_cache=False, launches=launches)
        done = time.perf_counter()
        solver = [f["seconds"] for f in report.findings]
        name = kernel.stem.removesuffix("_kernel")
        rows.append({"kernel": name, "status": report.status,
                     "obligations": len(report.findings), "wall_s": done - start,
                     "record_s": recorded - start, "in_search_s": done - recorded,
                     "analysis_s": report.analysis_seconds,
                     "solver_s": sum(solver), "slowest_query_s": max(solver, default=0.0)})
    print(f"verifier on {platform.processor() or platform.machine()}, cache off")
    print("wall: verification on its own (record: a fresh sandbox runs the candidate for its "
          "launches, torch/triton import included; then the analysis); in search: the same "
          "analysis given the harness's launch record, in a job of the warm zygote; analysis: "
          "tracing, TTIR compile and every Z3 query")
    print(f"{'kernel':<28}{'verdict':<11}{'oblig.':>7}{'wall s':>9}{'record s':>9}"
          f"{'in search s':>12}{'analysis s':>11}{'solver s':>10}{'max q s':>9}")
    for r in rows:
        print(f"{r['kernel']:<28}{r['status']:<11}{r['obligations']:>7}{r['wall_s']:>9.2f}"
              f"{r['record_s']:>9.2f}{r['in_search_s']:>12.3f}{r['analysis_s']:>11.3f}"
              f"{r['solver_s']:>10.3f}{r['slowest_query_s']:>9.3f}")
    walls = [r["wall_s"] for r in rows]
    searched = [r["in_search_s"] for r in rows]
    summary = {"median_wall_s": statistics.median(walls), "max_wall_s": max(walls),
               "median_in_search_s": statistics.median(searched),
               "max_in_search_s": max(searched),
               "median_analysis_s": statistics.median(r["analysis_s"] for r in rows),
               "median_solver_s": statistics.median(r["solver_s"] for r in rows),
               "proved": sum(r["status"] == "proved" for r in rows),
               "violated": sum(r["status"] == "violated" for r in rows),
               "unknown": sum(r["status"] == "unknown" for r in rows),
               "unsupported": sum(r["status"] == "unsupported" for r in rows), "kernels": len(rows)}
    print(f"median wall {summary['median_wall_s']:.2f} s, in search "
          f"{summary['median_in_search_s']:.3f} s (max {summary['max_in_search_s']:.2f} s), "
          f"analysis {summary['median_analysis_s']:.3f} s, solver "
          f"{summary['median_solver_s']:.3f} s; max {summary['max_wall_s']:.2f} s; "
          f"{summary['proved']} proved, {summary['violated']} violated, "
          f"{summary['unknown']} unknown, {summary['unsupported']} unsupported of "
          f"{summary['kernels']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"command": " ".join(sys.argv), "commit": commit(),
                                     "machine": platform.machine(), "rows": rows,
                                     "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
