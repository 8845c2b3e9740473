"""A first cut of the offline search: autodocket's own candidates for one problem, checked and
timed together in one sandboxed process, seconds each instead of a fresh pair of processes each.

    results = screen("problem.py", [Path("config_0.py"), Path("config_1.py")], device="cuda")
    results[0]  # {"status": "ok", "median_ms": 0.41, "detail": "", "by_set": {...}}
                # | "incorrect" | "crash"

Only for candidates autodocket generated itself (template instantiations, the compiler seed):
they share a process, so what it reports is a ranking, never a verdict. The candidate chosen
from it then gets the full harness (`tools.bench.bench`: the reference in its own sandbox, the
candidate in another, the judge here), and a model's candidate always gets only that.

On a GPU the candidates are checked on the default input set and timed on every input set
(`by_set`: each set's median, its shape class for configurations per shape class
(kernels/shapes) and the bytes the reference reads and writes there); `median_ms` is the
default set's. The caller ranks them by every set (`kernels.shapes.ranked_by_every_set`). On
the CPU (Triton's interpreter, no timing) they are checked on the smallest one, and the answer
is cached by the two files' content: there the screen is the offline coder's test of whether
a template computes what the problem computes, before an attempt is spent on it.

Child: `python -m tools.bench.screen PROBLEM DEVICE PLAN.json` with the candidates in its scratch
folder. On a GPU it compiles every candidate for every set's shapes off the card first (on meta
tensors, launches compiling without running: `runtime.CompileOnly`), then builds, checks and
warms up the candidates in untimed windows (`runtime.card_window`: the card shared for the
window, free between): one for each run of candidates compiled that way, one each for any
other (it compiles inside its window), then times those that passed in one window: it asks
("@@ready-to-time screen", answered "go"; "@@timed screen" after), and the parent holds the
card alone from then on (`tools.bench.serve_card`). Compiling off the card is new and not yet
measured on a GPU (2026-12-02); a candidate it fails for is compiled in its window as before.
It writes `screen.json` after every step, so a crash or a kill leaves what came before: the
parent charges the candidate that broke the process and screens the rest in a fresh one.
"""
from __future__ import annotations

import json
import shutil
import sys
import traceback
from pathlib import Path

from tools.cache import cache_path, write_atomic
from tools.sandbox import Sandbox

SCREEN_REPEATS = 20  # a ranking: the winner is timed again by the full harness


def screen(problem: str | Path, kernels: list[Path], *, device: str = "cuda",
           timeout: float = 600, repeats: int = SCREEN_REPEATS) -> list[dict]:
    """One result per kernel, in order. A process that dies on a candidate (a CUDA error
    breaks its context; a hang is killed) charges that candidate and carries on without it."""
    from tools.bench import content_key
    problem = Path(problem).resolve()
    # a CPU screen depends on the files and the libraries only; a GPU one is a timing
    keys = [content_key(problem, k, "screen") if device == "cpu" else None for k in kernels]
    results: list[dict | None] = [_cached(key) for key in keys]
    while None in results:
        todo = [i for i, r in enumerate(results) if r is None]
        said, why = _screen_in_one_process(problem, [kernels[i] for i in todo], device,
                                           timeout, repeats)
        for i, r in zip(todo, said):
            results[i] = r
        ended = {"status": "crash", "median_ms": None,
                 "detail": f"the screening process ended: {why}"}
        if len(said) < len(todo):  # the process ended inside the next candidate
            results[todo[len(said)]] = ended
        elif all(results[i] is None for i in todo):  # nothing came of it: never again
            results[todo[0]] = ended
    for key, result in zip(keys, results):
        if key and "the screening process ended" not in result["detail"]:  # not load-dependent
            write_atomic(cache_path("screen", f"{key}.json"), json.dumps(result))
    return results


def _cached(key: str | None) -> dict | None:
    if key is None:
        return None
    try:
        return json.loads(cache_path("screen", f"{key}.json").read_text())
    except (OSError, ValueError):
        return None


def _screen_in_one_process(problem: Path, kernels: list[Path], device: str, timeout: float,
                           repeats: int) -> tuple[list[dict], str]:
    from tools.bench import serve_card
    env = {"TRITON_INTERPRET": "1"} if device == "cpu" else {}
    box = Sandbox(timeout=timeout, memory_gb=32, gpu=device == "cuda", env=env)
    if device == "cuda":  # the kernels it compiles, for the harness's run of the winner
        box.cache_screen_compiles_of(problem)
    try:
        for i, kernel in enumerate(kernels):
            shutil.copyfile(kernel, box.scratch / f"candidate_{i}.py")
        shutil.copyfile(problem, box.scratch / "problem.py")
        (box.scratch / "plan.json").write_text(json.dumps(
            {"candidates": [f"candidate_{i}.py" for i in range(len(kernels))],
             "repeats": repeats}))
        running = box.start(["-m", "tools.bench.screen", f"{box.inside_scratch}/problem.py",
                             device, f"{box.inside_scratch}/plan.json"], interactive=True)
        serve_card(running, device)
        run = running.wait()
        try:
            said = json.loads((box.scratch / "screen.json").read_text())
        except (OSError, ValueError):
            said = {"results": []}
        if "error" in said:  # the problem itself could not run: every candidate shares it
            return [{"status": "crash", "median_ms": None, "detail": said["error"]}
                    for _ in kernels], said["error"]
        return _settled(said, len(kernels), run.reason()), run.reason()
    finally:
        box.close()


def _settled(said: dict, count: int, why: str) -> list[dict | None]:
    """The child's results, with those it checked but never timed (its process ended first)
    as None, to be screened again in a fresh process; the one it was timing when it died is
    charged with the death."""
    settled = []
    for index, entry in enumerate(said["results"][:count]):
        if entry.get("timing") == "pending":
            entry = {"status": "crash", "median_ms": None, "detail": "the screening process "
                     f"ended while timing it: {why}"} if index == said.get("timing_now") \
                else None
        settled.append(entry)
    return settled


# the child ------------------------------------------------------------------------------------
def _tolerance(problem, dtype) -> tuple[float, float]:
    """The problem's declared tolerance, else its dtype's default: a ranking errs lenient (the
    full harness bounds and applies the real one)."""
    from tools.bench.judge import DEFAULT_TOL
    atol, rtol = DEFAULT_TOL.get(str(dtype) if dtype is not None else "torch.float32",
                                 (1e-4, 1e-4))
    return (max(getattr(problem, "ATOL", None) or 0, atol),
            max(getattr(problem, "RTOL", None) or 0, rtol))


def run(problem_path: str, device: str, plan: dict) -> None:
    import torch

    from tools.bench import runtime
    from tools.bench.candidate import ask, build, run_draw
    from tools.bench.judge import Rejected, compare
    from tools.problem import input_sets, load_problem
    from tools.roofline import moved_bytes
    problem = load_problem(problem_path)
    dtype = getattr(problem, "DTYPE", None)
    if device == "cpu" and dtype == torch.bfloat16:
        dtype = torch.float32  # bf16 arithmetic is wrong in the interpreter
    init = list(problem.get_init_inputs())
    seed = runtime.PUBLIC_SEED
    with runtime.card_window(device), torch.no_grad():
        torch.manual_seed(42)
        ref = problem.Model(*init).to(device)
        ref = (ref.to(dtype) if dtype is not None else ref).eval()
        runtime.save("init.pt", init)
        runtime.save("state.pt", dict(ref.state_dict()))
        inputs = runtime.draw(problem, _smallest(problem) if device == "cpu" else None, seed,
                              device, dtype)
        expected = ref(*inputs)
        timing = {label: runtime.timing_draws(problem, spec, seed, label, device, dtype)
                  for label, spec in input_sets(problem)} if device == "cuda" else {}
    classes = {label: runtime.shape_class(next((x.shape for x in draws[0]
                                        if isinstance(x, torch.Tensor)), ()))
               for label, draws in timing.items()}
    # what the reference reads and writes on each set: the ranking leaves out the sets too
    # small to say much about a kernel (kernels.shapes.ranked_by_every_set)
    moved = {label: moved_bytes(problem, spec) for label, spec in input_sets(problem)
             if label in timing}
    atol, rtol = _tolerance(problem, dtype)
    said = {"results": [], "timing_now": None}
    results, models, broken = said["results"], {}, False

    def crashed(entry: dict, err: Exception) -> bool:
        """Charge `entry` with the crash; whether the CUDA context broke with it."""
        entry.update(status="crash", detail=f"{type(err).__name__}: {err}"[:300])
        entry.pop("timing", None)
        return device == "cuda" and _context_broken()

    def write() -> None:
        Path("screen.json").write_text(json.dumps(said))

    # every candidate's kernels are compiled for every set's shapes off the card where they
    # can be (on meta tensors, `runtime.CompileOnly`); then candidates are built, checked and
    # warmed up in windows (the card shared): one for each run of candidates compiled that
    # way, one each for the others (compiling in their window); then all are timed in one
    # window (alone) that holds timing only. A run beside this one waits for a window or for
    # the timing, never for the screen's compiles
    # each set's first timing draw as meta tensors (shapes, strides, dtypes: nothing on the card)
    meta_sets = [[torch.empty_strided(x.shape, x.stride(), dtype=x.dtype, device="meta")
                  if isinstance(x, torch.Tensor) else x for x in draws[0]]
                 for draws in timing.values()]
    offline = {name: _compiled_offline(name, meta_sets, dtype) for name in plan["candidates"]} \
        if timing else {}
    for group in windows(plan["candidates"], offline):
        try:
            with runtime.card_window(device):
                for name in group:
                    entry = {"status": "ok", "median_ms": None, "detail": "", "by_set": {}}
                    results.append(entry)
                    try:
                        model = build(name, "init.pt", "state.pt", device, dtype, {})
                        out, _ = run_draw(model, inputs, device)
                        compare(out, expected, atol, rtol)
                        if timing:
                            for draws in timing.values():
                                runtime.warm_up({"kernel": model}, draws[:1])
                            models[name] = model
                            entry["timing"] = "pending"
                    except Rejected as r:
                        entry.update(status="incorrect", detail=f"{r.reason}: {r.detail}")
                    except Exception as err:
                        broken = crashed(entry, err)
                    write()
                    if broken:
                        break
        except Exception:  # the window's closing synchronize, on a context the crash broke
            broken = True
        finally:
            write()
        if broken:
            break  # the parent goes on in a fresh process
    if not models or broken:  # a fresh process times what this one checked
        return
    ask("@@ready-to-time screen")  # the parent has the card alone until "@@timed"
    try:
        for index, (name, entry) in enumerate(zip(plan["candidates"], results)):
            if entry.get("timing") != "pending":
                continue
            said["timing_now"] = index  # if the process dies now, this candidate killed it
            write()
            try:
                entry["by_set"] = {label: {"class": classes[label], "bytes": moved[label],
                                           "median_ms": runtime.time_callables(
                                               {"kernel": models[name]}, draws,
                                               plan["repeats"])["kernel"]["median_ms"]}
                                   for label, draws in timing.items()}
                entry["median_ms"] = entry["by_set"].get("default", {}).get("median_ms")
                del entry["timing"]
            except Exception as err:
                if crashed(entry, err):
                    break
            finally:
                write()
    finally:
        print("@@timed screen", flush=True)


def windows(candidates: list[str], offline: dict[str, bool]) -> list[list[str]]:
    """The candidates in order, cut into card windows: a run of those compiled off the card
    shares one, each other one has its own (its compile happens inside it). In order, so a
    process that dies leaves the candidates before the one that killed it screened."""
    groups: list[list[str]] = []
    for name in candidates:
        if offline.get(name) and groups and offline.get(groups[-1][-1]):
            groups[-1].append(name)
        else:
            groups.append([name])
    return groups


def _compiled_offline(name: str, meta_sets: list[list], dtype) -> bool:
    """Whether a candidate's kernels were compiled, for every set's shapes, without the card:
    its model built on the meta device and run on each set's inputs as meta tensors under
    `runtime.CompileOnly` (launches compile and return; anything reaching for the GPU is
    refused). False where anything went otherwise: it then compiles in a window of its own."""
    import warnings

    import torch

    from tools.bench import runtime
    from tools.bench.candidate import build
    try:
        # the model too is made under the guard: a buffer its constructor puts on the GPU
        # is refused, not made beside another run's timing
        with runtime.CompileOnly(), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the reference's weights onto meta: no-ops
            model = build(name, "init.pt", "state.pt", "meta", dtype, {})
            for inputs in meta_sets:
                model(*inputs)
        return True
    except Exception:
        return False


def _smallest(problem):
    """The argument spec of the problem's input set with the fewest input elements (the CPU
    interpreter runs one program at a time)."""
    import math

    from tools.bench import runtime
    from tools.problem import input_sets

    def size(spec) -> int:
        return sum(math.prod(x["shape"]) for x in runtime.layout(problem, spec) if "shape" in x)
    return min((spec for _, spec in input_sets(problem)), key=size)


def _context_broken() -> bool:
    """After a device-side fault every CUDA call fails: the process cannot judge the rest."""
    import torch
    try:
        torch.cuda.synchronize()
        return False
    except Exception:
        return True


def main() -> None:
    problem, device, plan_path = sys.argv[1:4]
    try:
        run(problem, device, json.loads(Path(plan_path).read_text()))
    except Exception as err:  # before any candidate: the problem's own failure
        Path("screen.json").write_text(json.dumps({
            "error": f"the problem could not run: {type(err).__name__}: {str(err)[:300]}",
            "traceback": traceback.format_exc()[-2000:]}))


if __name__ == "__main__":
    main()
