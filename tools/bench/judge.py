"""The verdict, made where no candidate or problem code runs: outputs compared, tolerances
bounded, timing samples checked against the wall clock the harness itself watched.

Everything here reads data the sandboxed children wrote (`runtime.load`: tensors and numbers,
never code) and is imported only by the trusted parent process.
"""
from __future__ import annotations

import re
import statistics
from pathlib import Path

from tools.bench import runtime

DEFAULT_TOL = {"torch.float32": (1e-4, 1e-4), "torch.float64": (1e-6, 1e-6),
               "torch.float16": (1e-2, 1e-2), "torch.bfloat16": (1e-2, 1e-2)}
# the loosest tolerance a problem may declare unless it is the researcher's own file: a
# model-written problem with ATOL = 1e6 would pass any kernel
MAX_TOL = {"torch.float64": 1e-4, "torch.float32": 1e-2, "torch.float16": 5e-2,
           "torch.bfloat16": 5e-2, "torch.float8_e4m3fn": 1.25e-1, "torch.float8_e5m2": 2.5e-1}
CPU_HALF_TOL = 2e-2  # the interpreter's float16 arithmetic: wider on the CPU only


class Rejected(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class BadTolerance(ValueError):
    """The problem declares a tolerance looser than its dtype's bound (exit code 2)."""


UNREADABLE = "unreadable"  # a name the problem file assigns with an expression, not a literal


def declared_in_source(source: str) -> dict:
    """ATOL, RTOL and DTYPE as the problem file assigns them at module level, read without
    running it (the reference's process runs the file, and a model-written file can rewrite
    what that process reports): a number, "torch.<name>", None where not assigned, or
    `UNREADABLE` where assigned by an expression."""
    import ast
    found: dict = {"atol": None, "rtol": None, "dtype": None}

    def literal(node):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id == "torch":
            return f"torch.{node.attr}"
        try:
            return ast.literal_eval(node)
        except Exception:  # not a literal, or an unhashable one ({[]: 1})
            return UNREADABLE

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return found
    for node in tree.body:
        pairs = []
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) and \
                        len(target.elts) == len(node.value.elts):
                    pairs += zip(target.elts, node.value.elts)
                else:
                    pairs.append((target, node.value))
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            pairs.append((node.target, node.value))
        for target, value in pairs:
            names = [t.id for t in (target.elts if isinstance(target, ast.Tuple) else [target])
                     if isinstance(t, ast.Name)]
            for name in names:
                if name in ("ATOL", "RTOL", "DTYPE"):
                    found[name.lower()] = literal(value) if not isinstance(target, ast.Tuple) \
                        else UNREADABLE
    # a name bound more than once anywhere (again, in a branch or a function, deleted,
    # augmented), or a file that can bind names by string, says nothing certain about it
    bound = [node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and
             isinstance(node.ctx, (ast.Store, ast.Del))]
    bound += [alias.asname or alias.name for node in ast.walk(tree)
              if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names]
    bound += [node.name for node in ast.walk(tree)
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    by_string = re.search(r"\b(globals|setattr|vars|exec|eval|__dict__)\b", source)
    for name in ("ATOL", "RTOL", "DTYPE"):
        if bound.count(name) > 1 or (by_string and found[name.lower()] is not None):
            found[name.lower()] = UNREADABLE
    if found["dtype"] is not None and not (isinstance(found["dtype"], str) and
                                           found["dtype"].startswith("torch.")):
        found["dtype"] = UNREADABLE  # a dtype is named as torch.<name>, nothing else
    return found


def _no_looser(claimed: str | None, seen: str | None, table: dict, default: float) -> str | None:
    """The dtype a child claimed, unless its entry in `table` is looser than that of the dtype
    the harness saw in the data itself: then the one seen."""
    if claimed is None or seen is None:
        return claimed or seen
    return claimed if table.get(claimed, default) <= table.get(seen, default) else seen


def tolerance(meta: dict, device: str, researchers_own: bool, source: str | None = None,
              output_dtype: str | None = None) -> dict:
    """The tolerance outputs are judged with and its bound. The reference's process reports
    the dtypes and the declared values (`meta`), but a model-written problem runs there: the
    declared ATOL, RTOL and DTYPE are read from the file's `source` here, and a dtype the
    process claims is taken only where it is no looser than the `output_dtype` seen in the
    expected outputs the harness loaded itself."""
    file = declared_in_source(source) if source is not None else {}
    declared_dtype = file.get("dtype") if file.get("dtype") not in (None, UNREADABLE) else None
    defaults = {k: v[0] for k, v in DEFAULT_TOL.items()}
    # floating inputs run in DTYPE, but the CPU's interpreter runs bfloat16 in float32
    cpu_bf16 = device == "cpu" and declared_dtype == "torch.bfloat16"
    if declared_dtype:
        run_dtype = "torch.float32" if cpu_bf16 else declared_dtype
        dt = _no_looser(meta["tolerance_dtype"], run_dtype, defaults, 1e-4)
    else:
        dt = _no_looser(meta["tolerance_dtype"], output_dtype, defaults, 1e-4)
    default = DEFAULT_TOL.get(dt, (1e-4, 1e-4))
    declared = dict(meta.get("declared") or {})
    for name in ("atol", "rtol"):
        if file.get(name) == UNREADABLE and not researchers_own:
            raise BadTolerance(f"the problem's {name.upper()} is an expression: a problem not "
                               "written by the researcher declares it as a number")
        if name in file and file[name] != UNREADABLE:
            declared[name] = file[name]
    atol = declared.get("atol") if declared.get("atol") is not None else default[0]
    rtol = declared.get("rtol") if declared.get("rtol") is not None else default[1]
    for name, value in (("ATOL", atol), ("RTOL", rtol)):
        if not isinstance(value, (int, float)) or value != value or value < 0:
            raise BadTolerance(f"the problem's {name} is {value!r}: a number >= 0 is needed")
    # never looser than the outputs' own dtype: what a file declares is checked against what
    # was computed (a bfloat16 problem's float32 outputs on the CPU are as declared)
    seen = declared_dtype if cpu_bf16 and output_dtype == "torch.float32" else output_dtype
    bound_dtype = _no_looser(declared_dtype or meta.get("bound_dtype", dt), seen, MAX_TOL,
                             1e-2)
    bound = MAX_TOL.get(bound_dtype, 1e-2)
    note = None
    if max(atol, rtol) > bound:
        if not researchers_own:
            raise BadTolerance(
                f"the problem declares ATOL={atol:g}, RTOL={rtol:g} for {bound_dtype} outputs; "
                f"a problem not written by the researcher may declare at most {bound:g} for "
                f"{bound_dtype} (a looser one must come from the researcher's own problem file)")
        note = f"tolerance {max(atol, rtol):g} is looser than the usual bound {bound:g} for " \
               f"{bound_dtype}: the researcher's own problem file declares it"
    if device == "cpu" and dt in ("torch.float16", "torch.bfloat16"):
        atol, rtol = max(atol, CPU_HALF_TOL), max(rtol, CPU_HALF_TOL)
    return {"atol": atol, "rtol": rtol, "dtype": dt, "bound": bound,
            **({"note": note} if note else {})}


def _flatten(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare(cand, ref, atol: float, rtol: float, device: str = "cpu") -> dict:
    """Errors of one output against the reference; raises Rejected when it does not match.
    `device`: where the arithmetic runs (the harness's GPU, when it has one: a dozen passes
    over every output cost seconds on the host, and two workers' judges then contend for
    its memory bandwidth). An output the comparison cannot even read is rejected too: the
    candidate chose what it returned, and its oddities must not stop the judge."""
    try:
        return _compare(cand, ref, atol, rtol, device)
    except Rejected:
        raise
    except Exception as err:
        if isinstance(err, MemoryError) or "out of memory" in str(err):
            raise  # this machine's limit, not the candidate's output
        raise Rejected("wrong-output", f"the output could not be compared with the reference: "
                       f"{type(err).__name__}: {str(err)[:200]}") from None


def _compare(cand, ref, atol: float, rtol: float, device: str) -> dict:
    import torch
    cand_list, ref_list = _flatten(cand), _flatten(ref)
    if len(cand_list) != len(ref_list):
        raise Rejected("wrong-output", f"{len(cand_list)} outputs, reference has {len(ref_list)}")
    worst = {"max_abs_err": 0.0, "max_rel_err": 0.0, "rel_l2_err": 0.0}
    for c, r in zip(cand_list, ref_list):
        if not isinstance(r, torch.Tensor):
            if c != r:
                raise Rejected("wrong-output", f"non-tensor output {c!r} != {r!r}")
            continue
        if type(c) is not torch.Tensor:
            raise Rejected("wrong-output", f"output is {type(c).__name__}, not a Tensor")
        if c.layout != torch.strided or c.is_quantized or c.is_conj() or c.is_neg():
            raise Rejected("wrong-output", f"output is not a plain dense tensor (layout "
                           f"{c.layout}, quantized {c.is_quantized}, lazy conjugate or "
                           f"negation {c.is_conj() or c.is_neg()})")
        if c.shape != r.shape:
            raise Rejected("wrong-output", f"shape {tuple(c.shape)} != {tuple(r.shape)}")
        if c.dtype != r.dtype:
            raise Rejected("downcast" if c.itemsize < r.itemsize else "wrong-output",
                           f"dtype {c.dtype} != reference {r.dtype}")
        if not c.is_floating_point():
            if not torch.equal(c, r):
                bad = (c != r).nonzero()[0].tolist()
                raise Rejected("incorrect", f"integer output differs first at {bad}")
            continue
        # float32 holds any float16/bfloat16/float32 value exactly and its differences closely
        # enough for any tolerance the harness allows; it halves the work on large outputs
        wide = torch.float64 if r.dtype == torch.float64 else torch.float32
        cw, rw = c.detach().to(device, wide), r.detach().to(device, wide)
        nan_c, nan_r = torch.isnan(cw), torch.isnan(rw)
        if (nan_c & ~nan_r).any():
            idx = (nan_c & ~nan_r).nonzero()[0].tolist()
            count = int((nan_c & ~nan_r).sum())
            raise Rejected("unwritten-output", f"{count} elements NaN where the reference is not "
                           f"(first at {idx}): never written, or NaN computed")
        # an infinity in the reference must be met exactly (its tolerance would be infinite);
        # everything else is measured on the finite elements only
        inf_r = torch.isinf(rw)
        if (inf_r & (cw != rw)).any():
            idx = (inf_r & (cw != rw)).nonzero()[0].tolist()
            raise Rejected("incorrect", f"{int((inf_r & (cw != rw)).sum())} elements where the "
                           f"reference is infinite differ from it (first at {idx})")
        ok = nan_c == nan_r
        finite = ~(nan_r | inf_r)
        diff = (cw - rw).abs().masked_fill(~ok | ~finite, 0)
        tol = atol + rtol * rw.abs().masked_fill(~finite, 0)
        if (diff > tol).any() or not ok.all():
            idx = (diff > tol).nonzero()[0].tolist() if (diff > tol).any() else []
            raise Rejected("incorrect", f"max abs error {float(diff.max()):.3g} over tolerance "
                           f"(atol {atol}, rtol {rtol}), first at {idx}")
        # the sums of squares in float64: a float32 one overflows past 1.8e19 per element
        ref_norm = float(torch.linalg.vector_norm(rw.masked_fill(~finite, 0),
                                                  dtype=torch.float64))
        diff_norm = float(torch.linalg.vector_norm(diff, dtype=torch.float64))
        rel_l2 = diff_norm / ref_norm if ref_norm > 0 else diff_norm
        # tiny outputs: zeros can sit inside atol; and however loose the researcher's RTOL,
        # an output half as far from the reference as the reference is from zero is not it
        if rel_l2 > min(max(10 * rtol, 1e-3), 0.5):
            raise Rejected("incorrect", f"relative L2 error {rel_l2:.3g}: the output does not "
                           "follow the reference (e.g. zeros within the absolute tolerance)")
        rel = diff / rw.abs().clamp_min(atol)
        worst["max_abs_err"] = max(worst["max_abs_err"], float(diff.max()))
        worst["max_rel_err"] = max(worst["max_rel_err"], float(rel.max()))
        worst["rel_l2_err"] = max(worst["rel_l2_err"], rel_l2)
    return worst


def _read(path: Path, whose: str):
    try:
        return runtime.load(path)
    except FileNotFoundError:
        raise Rejected("wrong-output", f"{whose} output {path.name} was never written") from None
    except Exception as err:  # weights_only refuses anything that is not plain data
        raise Rejected("wrong-output", f"{whose} output {path.name} is not plain tensor "
                       f"data: {type(err).__name__}: {str(err)[:200]}") from None


# the draws judged against the reference (the ghost run is judged the other way)
TRIAL_DRAWS = [name for name in runtime.DRAW_NAMES if name != "ghost"]


def judge_draw(draw: str, outputs: Path, expected: Path, tol: dict,
               device: str = "cpu") -> dict:
    """The candidate's output of one draw (`<set>-<draw name>`) against the reference's: its
    errors, or Rejected."""
    exp = runtime.load(expected / f"{draw}.pt")
    return compare(_read(outputs / f"{draw}.pt", "the candidate's"), exp, tol["atol"],
                   tol["rtol"], device)


def judge_set(label: str, outputs: Path, expected: Path, tol: dict, shapes,
              device: str = "cpu") -> dict:
    """Every trial of one input set against the reference's outputs, then the ghost run: with
    every kernel of the candidate's own a no-op the output must be wrong. Raises Rejected."""
    worst = {"max_abs_err": 0.0, "max_rel_err": 0.0, "rel_l2_err": 0.0}
    for name in TRIAL_DRAWS:
        try:
            errs = judge_draw(f"{label}-{name}", outputs, expected, tol, device)
        except Rejected as r:
            raise Rejected(r.reason, f"input set {label}, {name}: {r.detail}") from None
        for k in worst:
            worst[k] = max(worst[k], errs[k])
    ghost = _read(outputs / f"{label}-ghost.pt", "the ghost run's")
    if not (isinstance(ghost, dict) and runtime.GHOST_FAILED in ghost):
        try:
            compare(ghost, runtime.load(expected / f"{label}-ghost.pt"), tol["atol"], tol["rtol"],
                    device)
        except Rejected:
            pass
        else:
            raise Rejected("kernel-does-no-work", f"input set {label}: with every kernel of its "
                           "own (Triton launches, C++/CUDA extension functions called through "
                           "their module) replaced by a no-op the output is still correct: "
                           "PyTorch (or a cache) computes it")
    return {"input_set": label, "shapes": shapes, "trials": len(TRIAL_DRAWS), **worst}


def same_inputs(reference: dict, candidate: dict) -> list[str]:
    """Draws whose inputs differ between the two processes (a problem drawing from a source
    other than torch's seeded generator)."""
    def close(a, b) -> bool:
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            return all(close(x, y) for x, y in zip(a, b))
        if isinstance(a, float) and isinstance(b, float):
            return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
        return a == b
    return [k for k, v in reference.items() if k in candidate and not close(v, candidate[k])]


# timing ----------------------------------------------------------------------------------------
def _summarised(phase: dict) -> dict:
    """Each callable's median and percentiles, computed here from its samples: a child's own
    summary is not taken on its word."""
    return {name: {**runtime.summary(t["event"], t["wall"]),
                   "launch_bound": int(t.get("launch_bound", 0))}
            for name, t in phase.items()}


def _unexplained_ms(phase: dict, span_ms: float) -> tuple[float, int]:
    """Wall time of a timed phase (as the harness saw it) not covered by the runs the child
    reports, per run."""
    walls = [w for p in ("first", "second") for t in phase[p].values() for w in t["wall"]]
    return (span_ms - sum(walls)) / max(1, len(walls)), len(walls)


def judge_timing(label: str, cand: dict, ref: dict, cand_span_ms: float, ref_span_ms: float,
                 shapes, compile_error: str | None) -> dict:
    """One input set's timing row; raises Rejected when the candidate's own times disagree
    with the wall clock the harness watched, or its work hides from the timed stream."""
    k = cand["first"]["kernel"]
    for p in ("first", "second"):
        t = cand[p]["kernel"]
        if not t["event"] or any(e > w + 0.05 for e, w in zip(t["event"], t["wall"])) or \
                len(t["event"]) != len(t["wall"]):
            raise Rejected("timing-disagrees", f"input set {label}: the candidate's event times "
                           "exceed its own wall-clock times")
    extra, runs = _unexplained_ms(cand, cand_span_ms)
    ref_extra, _ = _unexplained_ms(ref, ref_span_ms)
    wall_median = statistics.median(k["wall"])
    # every run the child reports lies inside the phase the harness watched: times adding up
    # to more than it watched were never measured (1% and 1 ms for the clocks' disagreement)
    if extra * runs < -(0.01 * cand_span_ms + 1.0):
        raise Rejected("timing-forged", f"input set {label}: the candidate's runs add up to "
                       f"{cand_span_ms - extra * runs:.1f} ms of wall clock, but the harness "
                       f"watched the whole phase take {cand_span_ms:.1f} ms")
    if extra > ref_extra + max(0.1, 0.25 * wall_median):
        raise Rejected("timing-disagrees", f"input set {label}: the harness watched "
                       f"{cand_span_ms:.1f} ms for {runs} timed runs, {extra:.3f} ms per run "
                       "more than the candidate's own times account for (the reference's "
                       f"process: {ref_extra:.3f} ms)")
    first = {**_summarised(ref["first"]), **_summarised(cand["first"])}
    second = {**_summarised(ref["second"]), **_summarised(cand["second"])}
    row = {"input_set": label, "shapes": shapes, "first": first, "second": second,
           "compile_error": compile_error, "observed_ms_per_run": round(cand_span_ms / runs, 4)}
    k1, k2 = first["kernel"]["median_ms"], second["kernel"]["median_ms"]
    row["kernel_drift"] = abs(k2 - k1) / k1 if k1 else 0.0
    for base in ("eager", "compile"):
        if base in first:
            row[f"speedup_vs_{base}"] = first[base]["median_ms"] / k1
    hidden = first["kernel"]["wall_median_ms"] - k1
    ref_hidden = first["eager"]["wall_median_ms"] - first["eager"]["median_ms"]
    if hidden > max(0.05, 0.5 * k1) + ref_hidden:
        raise Rejected("stream-or-thread", f"input set {label}: {hidden:.3f} ms of work "
                       "outside the timed stream (side stream or host work)")
    flags = []
    if max(row.get("speedup_vs_eager", 0), row.get("speedup_vs_compile", 0)) > 10:
        flags.append("speedup over 10x: re-run before believing it")
    if row["kernel_drift"] > 0.10:
        flags.append(f"kernel time moved {row['kernel_drift']:.0%} between two measurements")
    for name, t in first.items():
        if t["launch_bound"] >= t["runs"]:
            flags.append(f"{name} waits for the GPU inside its call (a host sync: every run's "
                         "launch outlasted the cushion): its time includes the host's work")
        elif t["launch_bound"] > 0.1 * t["runs"]:
            flags.append(f"{name}: {t['launch_bound']} of {t['runs']} runs launched slower than "
                         "the GPU's cushion (a starved host): its time may include an idle GPU")
    row["flags"] = flags
    return row


TIMING_METHOD = ("CUDA events around each call (GPU kept busy while the host launches; a "
                 "launch that outlasts it is counted), medians computed by the harness from the "
                 "samples, "
                 "device-wide synchronize after it, L2 flushed (256 MB write) before every run, "
                 "4 rotating input sets per shape, warm-up 3 calls per set, two passes; "
                 "candidate and reference timed in separate sandboxed processes, one after the "
                 "other, each phase's wall clock watched by the harness")
