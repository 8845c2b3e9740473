"""Z3 queries for the obligations of one launch, and readable counterexamples.

- in bounds: for every load, store and atomic, `ctx ∧ mask ⇒ 0 ≤ offset < extent(tensor)`;
- race-free: no two distinct programs store to the same element (atomics excepted);
- coverage: every element of a tensor that `forward` returns is stored by some program.
"""
from __future__ import annotations

import math
import time
from fractions import Fraction
from dataclasses import asdict, dataclass

import z3

from . import exhaustive
from .symbolic import PIDS, Access, ax, grid_bounds, lane_bounds
from .trace import TensorArg

QUERY_TIMEOUT_MS = 10_000
COVERAGE_TIMEOUT_MS = 3_000  # quantified queries: large grids can exhaust any budget


@dataclass
class Finding:
    kernel: str
    obligation: str  # "in bounds" | "race-free" | "coverage"
    access: str  # "load of x_ptr at line 12", ...
    status: str  # proved | violated | unknown | unsupported
    seconds: float
    detail: str = ""
    counterexample: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _solve(constraints: list, minimize=None, timeout_ms: int = QUERY_TIMEOUT_MS):
    """Linear integer arithmetic first (fast: concrete shapes make most queries linear); the
    general solver when that logic gives up (a product of two symbolic values, say)."""
    start = time.perf_counter()
    for solver in (z3.SolverFor("QF_LIA"), z3.Solver()):
        solver.set("timeout", timeout_ms)
        solver.add(*constraints)
        result = solver.check()
        if result != z3.unknown:
            break
    model = solver.model() if result == z3.sat else None
    if model is not None and minimize is not None:
        opt = z3.Optimize()
        opt.set("timeout", 1000)
        opt.add(*constraints)
        opt.minimize(minimize)
        if opt.check() == z3.sat:
            model = opt.model()
    return result, model, time.perf_counter() - start


def _value(model, expr) -> int | None:
    v = model.eval(expr, model_completion=True)
    return v.as_long() if z3.is_int_value(v) else None


def _coordinate(offset: int, t: TensorArg) -> list[int] | None:
    if not 0 <= offset < max(t.extent, 1) or not t.shape:
        return None
    coords = [0] * len(t.shape)
    rest = offset
    for k in sorted(range(len(t.shape)), key=lambda k: -t.strides[k]):
        if t.strides[k] > 0:
            coords[k], rest = divmod(rest, t.strides[k])
    return coords if rest == 0 else None


def _describe(access: Access, arg_name: str) -> str:
    return f"{access.kind} of {arg_name} at line {access.line}"


def counterexample(model, access: Access, grid, tensor: TensorArg | None, arg_name: str,
                   source_lines: list[str]) -> dict:
    pid = [(_value(model, PIDS[k]) or 0) if grid[k] > 1 else 0 for k in range(3)]
    lane = [_value(model, ax(k)) for k in range(len(access.shape))]
    loops = {loop.name: _value(model, loop.iv) for loop in access.loops}
    offset = _value(model, access.offset)
    cx = {"program": pid, "lane": lane, "block": list(access.shape), "loop": loops,
          "tensor": arg_name, "offset": offset}
    if tensor is not None:
        cx.update(extent=tensor.extent, shape=list(tensor.shape), strides=list(tensor.strides),
                  coordinate=_coordinate(offset, tensor) if offset is not None else None)
    if access.line and 0 < access.line <= len(source_lines):
        cx["code"] = source_lines[access.line - 1].strip()
    return cx


def _sentence(cx: dict) -> str:
    where = f"program {tuple(cx['program'])}, lane {tuple(cx['lane'])} of block {tuple(cx['block'])}"
    if cx["loop"]:
        where += ", " + ", ".join(f"{k}={v}" for k, v in cx["loop"].items())
    return where


def check_bounds(kernel: str, access: Access, grid, tensor: TensorArg | None, arg_name: str,
                 source_lines: list[str]) -> Finding:
    label = _describe(access, arg_name)
    if access.why or tensor is None:
        why = access.why or "pointer does not come from a tensor argument"
        return Finding(kernel, "in bounds", label, "unsupported", 0.0, f"unsupported: {why}")
    off = access.offset
    cs = grid_bounds(grid) + lane_bounds(access.shape) + access.ctx + [
        access.mask, z3.Or(off < 0, off >= tensor.extent)]
    result, model, seconds = _solve(cs, minimize=z3.Sum(PIDS) + z3.Sum(
        [ax(k) for k in range(len(access.shape))] or [z3.IntVal(0)]))
    if result == z3.unsat:
        return Finding(kernel, "in bounds", label, "proved", seconds)
    if result == z3.unknown:
        return Finding(kernel, "in bounds", label, "unknown", seconds,
                       "solver gave up (time-out); not proved")
    cx = counterexample(model, access, grid, tensor, arg_name, source_lines)
    where = _sentence(cx)
    side = "below 0" if (cx["offset"] or 0) < 0 else f"≥ extent {tensor.extent}"
    detail = (f"{where}: offset {cx['offset']} {side} of {arg_name} "
              f"({tensor.describe()}, strides {list(tensor.strides)})")
    if access.data_dep:
        return Finding(kernel, "in bounds", label, "unknown", seconds,
                       "depends on loaded values; possible: " + detail, cx)
    return Finding(kernel, "in bounds", label, "violated", seconds, detail, cx)


def _renamed(access: Access, suffix: str):
    """A copy of an access for another program: every free variable (program ids, lanes,
    iterations, loaded values) renamed. Returns the substitution and the renamed variables."""
    names: dict[str, z3.ExprRef] = {str(p): p for p in PIDS}
    names.update({str(ax(k)): ax(k) for k in range(len(access.shape))})
    names.update({str(l.it): l.it for l in access.loops})
    stack = [access.offset, access.mask, *access.ctx, *(l.iv for l in access.loops)]
    seen = set()
    while stack:
        e = stack.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            names[str(e)] = e
        stack.extend(e.children())
    pairs = [(v, z3.Const(str(v) + suffix, v.sort())) for v in names.values()]

    def sub(e):
        return z3.substitute(e, *pairs)
    return sub, [new for _, new in pairs]


def check_race(kernel: str, a: Access, b: Access, grid, tensor: TensorArg, arg_name: str,
               source_lines: list[str]) -> Finding:
    label = f"stores to {arg_name} at lines {a.line} and {b.line}" if a is not b else \
        f"store to {arg_name} at line {a.line}"
    if a.why or b.why:
        return Finding(kernel, "race-free", label, "unsupported", 0.0,
                       f"unsupported: {a.why or b.why}")
    if all(g == 1 for g in grid):
        return Finding(kernel, "race-free", label, "proved", 0.0, "one program")
    sub, _ = _renamed(b, "'")
    pid2 = [sub(p) for p in PIDS]
    lanes2 = [z3.And(sub(ax(k)) >= 0, sub(ax(k)) < d) for k, d in enumerate(b.shape)]
    grid2 = [z3.And(pid2[k] >= 0, pid2[k] < g) for k, g in enumerate(grid)]
    distinct = z3.Or([PIDS[k] != pid2[k] for k in range(3) if grid[k] > 1])
    in_range = [a.offset >= 0, a.offset < tensor.extent]  # bounds are proved separately
    cs = grid_bounds(grid) + grid2 + lane_bounds(a.shape) + lanes2 + a.ctx + \
        [sub(c) for c in b.ctx] + [a.mask, sub(b.mask), distinct, a.offset == sub(b.offset)] + \
        in_range
    # one store whose offset has a left inverse: no two writers of one element, and the query
    # is quantifier-free and linear where the pairwise one can time out (divisions)
    start = time.perf_counter()
    if a is b and not a.data_dep and _injective(a, grid, tensor):
        return Finding(kernel, "race-free", label, "proved", time.perf_counter() - start,
                       "no two writers of one element: each element's writer constructed "
                       "from it and checked")
    # every program's stores evaluated (`exhaustive`): exact for this launch and free of the
    # solver's time-outs on tile orders with divisions; the solver then only fills in the
    # lanes of a race found there, with its programs and element fixed
    found = None
    try:
        found = exhaustive.shared_element(a, b, grid, tensor)
    except exhaustive.NotEnumerable:
        pass
    else:
        if found is None:
            return Finding(kernel, "race-free", label, "proved", time.perf_counter() - start,
                           f"every store of all {math.prod(grid)} programs evaluated: no "
                           "element written by two programs")
        offset, one, other = found
        cs += [a.offset == offset] + [PIDS[k] == one[k] for k in range(3)] + \
            [pid2[k] == other[k] for k in range(3)]
    result, model, seconds = _solve(cs)
    seconds += time.perf_counter() - start
    if result == z3.unsat and found:
        return Finding(kernel, "race-free", label, "unknown", seconds,
                       f"enumerating the programs found {tuple(one)} and {tuple(other)} storing "
                       f"offset {offset} of {arg_name}, the solver did not: not proved")
    if result == z3.unsat:
        return Finding(kernel, "race-free", label, "proved", seconds)
    if result == z3.unknown and found:
        coordinate = _coordinate(offset, tensor)
        return Finding(kernel, "race-free", label, "violated", seconds,
                       f"programs {tuple(one)} and {tuple(other)} both store element "
                       f"{coordinate or offset} of {arg_name}",
                       {"program": one, "other_program": other, "tensor": arg_name,
                        "offset": offset, "coordinate": coordinate})
    if result == z3.unknown:
        return Finding(kernel, "race-free", label, "unknown", seconds, "solver time-out")
    first = counterexample(model, a, grid, tensor, arg_name, source_lines)
    other_pid = [(_value(model, pid2[k]) or 0) if grid[k] > 1 else 0 for k in range(3)]
    other_lane = [_value(model, sub(ax(k))) for k in range(len(b.shape))]
    first["other_program"], first["other_lane"] = other_pid, other_lane
    detail = (f"programs {tuple(first['program'])} and {tuple(other_pid)} both store "
              f"element {first.get('coordinate') or first['offset']} of {arg_name} "
              f"(lanes {tuple(first['lane'])} and {tuple(other_lane)})")
    status = "unknown" if (a.data_dep or b.data_dep) else "violated"
    return Finding(kernel, "race-free", label, status, seconds, detail, first)


def _free_variables(s: Access, grid) -> list:
    """The variables a store's offset ranges over: program ids, lanes, loop iterations."""
    return [PIDS[k] for k in range(3) if k < len(grid) and grid[k] > 1] + \
        [ax(k) for k, d in enumerate(s.shape) if d > 1] + [loop.it for loop in s.loops]


def _at(expr, point: dict) -> int | None:
    value = z3.simplify(z3.substitute(expr, *[(v, z3.IntVal(x)) for v, x in point.items()]))
    return value.as_long() if z3.is_int_value(value) else None


def _mixed_radix(rest, slopes: list[tuple]) -> dict:
    """`rest` split into digits along (key, slope) pairs, largest slope first (z3's integer
    division: floor for a positive divisor); a slope of 0 gets the digit 0."""
    digits = {}
    for key, slope in sorted(slopes, key=lambda ks: -ks[1]):
        if slope == 0:
            digits[key] = z3.IntVal(0)
        else:
            digits[key], rest = rest / slope, rest % slope
    return digits


def _preimage(s: Access, grid, element) -> list | None:
    """A guess at the (program, lane, iteration) that stores `element`: the offset read as an
    affine map (its slope along each variable, measured from the origin) and inverted by
    mixed-radix division, largest slope first. Only a guess: the caller checks it."""
    free = _free_variables(s, grid)
    fixed = [PIDS[k] for k in range(3) if not (k < len(grid) and grid[k] > 1)] + \
        [ax(k) for k, d in enumerate(s.shape) if d <= 1]
    origin = {v: 0 for v in free + fixed}
    base = _at(s.offset, origin)
    slopes = [(v, _at(s.offset, {**origin, v: 1})) for v in free]
    if base is None or any(d is None or d < 0 for _, d in slopes):
        return None
    digits = _mixed_radix(element - base, [(str(v), d) for v, d in slopes])
    return [(v, z3.IntVal(0)) for v in fixed] + [(v, digits[str(v)]) for v in free]


def _linear(e, atoms: dict) -> dict | None:
    """`e` as {term: coefficient}: None the constant, a variable's name, or the key of an atom,
    an integer division of an affine expression by a positive constant (`atoms` gets
    key -> (that expression, the divisor)); a remainder is written through its division. None
    where `e` is of another form."""
    if z3.is_int_value(e):
        return {None: e.as_long()}
    if not z3.is_app(e):
        return None
    kind, kids = e.decl().kind(), e.children()
    if kind == z3.Z3_OP_UNINTERPRETED and not kids:
        return {str(e): 1}
    if kind in (z3.Z3_OP_ADD, z3.Z3_OP_SUB, z3.Z3_OP_UMINUS):
        parts = [_linear(k, atoms) for k in kids]
        if any(p is None for p in parts):
            return None
        signs = [-1] if kind == z3.Z3_OP_UMINUS else \
            [1] + [1 if kind == z3.Z3_OP_ADD else -1] * (len(parts) - 1)
        out: dict = {}
        for sign, part in zip(signs, parts):
            for term, c in part.items():
                out[term] = out.get(term, 0) + sign * c
        return out
    if kind == z3.Z3_OP_MUL:  # a product with at most one factor that is not a constant
        parts = [_linear(k, atoms) for k in kids]
        if any(p is None for p in parts):
            return None
        constant = [p.get(None, 0) for p in parts if set(p) <= {None}]
        varying = [p for p in parts if not set(p) <= {None}]
        if len(varying) > 1:
            return None
        scale = math.prod(constant)
        return {t: c * scale for t, c in (varying[0] if varying else {None: 1}).items()}
    # the C division the symbolic executor writes, If(a >= 0, a / n, -((-a) / n)), or a plain
    # one: the same for the non-negative indices it guesses
    division = None
    if kind == z3.Z3_OP_ITE and kids[1].decl().kind() == z3.Z3_OP_IDIV:
        division = kids[1].children()
    elif kind in (z3.Z3_OP_IDIV, z3.Z3_OP_MOD):
        division = kids
    if division is None or not z3.is_int_value(division[1]) or division[1].as_long() <= 0:
        return None
    inner, n = _linear(division[0], atoms), division[1].as_long()
    if inner is None or any(isinstance(t, tuple) for t in inner):
        return None  # a division of a division: not guessed
    key = ("div", n, tuple(sorted(inner.items(), key=str)))
    atoms[key] = (inner, n)
    return {**inner, key: -n} if kind == z3.Z3_OP_MOD else {key: 1}


def _loop_trips(s: Access, grid) -> dict[str, int] | None:
    """Each loop's number of iterations, as bounded by the store's context."""
    trips = {}
    for loop in s.loops:
        opt = z3.Optimize()
        opt.set("timeout", 1000)
        opt.add(*(grid_bounds(grid) + lane_bounds(s.shape) + s.ctx))
        top = opt.maximize(loop.it)
        if opt.check() != z3.sat or not z3.is_int_value(opt.upper(top)):
            return None
        trips[str(loop.it)] = opt.upper(top).as_long() + 1
    return trips


def _preimage_through_divisions(s: Access, grid, element) -> list | None:
    """The guess where the offset is affine in the variables and in divisions of an affine
    index by constants (Inductor's x0 = xindex % n, x1 = xindex // n): each division's index
    X = n*(X // n) + X % n gives two coordinates (quotient and remainder) that the mixed-radix
    inversion solves for, and X is then split over its own variables the same way."""
    atoms: dict = {}
    offset = _linear(s.offset, atoms)
    trips = _loop_trips(s, grid)
    if offset is None or trips is None:
        return None
    sizes = {str(PIDS[k]): (grid[k] if k < len(grid) else 1) for k in range(3)}
    sizes.update({str(ax(k)): d for k, d in enumerate(s.shape)}, **trips)
    variables = {str(v): v for v in _free_variables(s, grid)}
    variables.update({str(PIDS[k]): PIDS[k] for k in range(3)})
    # a variable the offset falls along (blocks taken last first) is read backwards, v = n-1-v'
    flipped = {t for form in [offset, *(inner for inner, _ in atoms.values())]
               for t, c in form.items() if c < 0 and t in variables}
    if flipped:
        atoms = {}
        offset = _linear(z3.substitute(s.offset, *[
            (variables[t], sizes[t] - 1 - variables[t]) for t in flipped]), atoms)
        if offset is None:
            return None
    terms = [t for t in offset if t is not None] + [t for inner, _ in atoms.values()
                                                   for t in inner if t is not None]
    if any(not isinstance(t, tuple) and t not in sizes for t in terms):
        return None  # a value the offset reads from memory, say
    base, coords, owned = offset.get(None, 0), [], set()
    for key, (inner, n) in atoms.items():
        index = {v: a for v, a in inner.items() if v is not None}
        if any(a < 0 for a in index.values()) or inner.get(None, 0) < 0 or owned & set(index):
            return None
        ratios = {Fraction(offset.get(v, 0), a) for v, a in index.items()}
        if len(ratios) != 1 or next(iter(ratios)).denominator != 1:
            return None
        scale = int(next(iter(ratios)))  # the offset holds scale * X besides the quotient
        owned |= set(index)
        top = inner.get(None, 0) + sum(a * (sizes[v] - 1) for v, a in index.items())
        base -= scale * inner.get(None, 0)
        coords += [(("rem", key), scale, n), (("quot", key), scale * n + offset.get(key, 0),
                                               top // n + 1)]
    coords += [(("var", t), c, sizes[t]) for t, c in offset.items()
               if t is not None and not isinstance(t, tuple) and t not in owned]
    if any(slope < 0 and size > 1 for _, slope, size in coords):
        return None
    values = _mixed_radix(element - base, [(key, slope if size > 1 else 0)
                                           for key, slope, size in coords])
    guess = {t: values[("var", t)] for t in sizes if ("var", t) in values}
    for key, (inner, n) in atoms.items():
        guess.update(_mixed_radix(
            n * values[("quot", key)] + values[("rem", key)] - inner.get(None, 0),
            [(v, a if sizes[v] > 1 else 0) for v, a in inner.items() if v is not None]))
    guess = {t: sizes[t] - 1 - g if t in flipped else g for t, g in guess.items()}
    return [(variables[t] if t in variables else z3.Int(t), guess.get(t, z3.IntVal(0)))
            for t in sizes]


def _injective(s: Access, grid, tensor: TensorArg) -> bool:
    """Does every active (program, lane, iteration) get back from the element it stores, by
    one of the coverage guesses? Then no two of them store one element."""
    active = grid_bounds(grid) + lane_bounds(s.shape) + s.ctx + \
        [s.mask, s.offset >= 0, s.offset < tensor.extent]
    for guess in (_preimage(s, grid, s.offset), _preimage_through_divisions(s, grid, s.offset)):
        if guess and _solve(active + [z3.Or([v != g for v, g in guess])],
                            timeout_ms=COVERAGE_TIMEOUT_MS)[0] == z3.unsat:
            return True
    return False


def _covered_by_guesses(stores, element, in_tensor: list) -> bool:
    """Coverage without quantifiers: each element's guessed preimage under some store lies in
    that launch's grid and the store's lanes, satisfies its mask and context, and stores
    exactly that element. Proves coverage when no element fails every guess (linear
    arithmetic, seconds where the quantified query times out); says nothing otherwise."""
    per_store = []
    for s, grid in stores:
        hit = z3.And(grid_bounds(grid) + lane_bounds(s.shape) + s.ctx +
                     [s.mask, s.offset == element])
        per_store.append([z3.Not(z3.substitute(hit, *g)) for g in (
            _preimage(s, grid, element), _preimage_through_divisions(s, grid, element)) if g])
    # one store's one guess covering everything is the usual case, and the easiest query
    for miss in (m for misses in per_store for m in misses):
        if _solve(in_tensor + [miss], timeout_ms=COVERAGE_TIMEOUT_MS)[0] == z3.unsat:
            return True
    if len(stores) == 1 or not all(per_store):
        return False
    union = [z3.And(misses) for misses in per_store]  # several stores, each writing a part
    return _solve(in_tensor + union, timeout_ms=COVERAGE_TIMEOUT_MS)[0] == z3.unsat


def check_coverage(kernel: str, stores: list[tuple[Access, tuple]], tensor: TensorArg,
                   arg_name: str, quantified: bool = True) -> Finding:
    """Is some element of the returned tensor stored by no program of any launch? Each
    element's preimage is guessed and checked first; then, if asked (`quantified`), the
    quantified query that finds an unwritten element where there is one."""
    label = f"every element of {arg_name} written"
    bad = [s for s, _ in stores if s.why or s.data_dep]
    if bad:
        return Finding(kernel, "coverage", label, "unsupported" if bad[0].why else "unknown",
                       0.0, bad[0].why or "store depends on loaded values")
    coords = [z3.Int(f"c{k}") for k in range(len(tensor.shape))]
    element = z3.Sum([c * st for c, st in zip(coords, tensor.strides)] or [z3.IntVal(0)])
    cs = [z3.And(c >= 0, c < d) for c, d in zip(coords, tensor.shape)]
    start = time.perf_counter()
    if _covered_by_guesses(stores, element, cs):
        return Finding(kernel, "coverage", label, "proved", time.perf_counter() - start,
                       "each element's writer constructed and checked")
    try:
        missing = exhaustive.unwritten_element(stores, tensor)
    except exhaustive.NotEnumerable:
        pass
    else:
        seconds = time.perf_counter() - start
        if missing is None:
            return Finding(kernel, "coverage", label, "proved", seconds,
                           "every store of every program evaluated: each element written")
        return Finding(kernel, "coverage", label, "violated", seconds,
                       f"element {missing} of {arg_name} ({tensor.describe()}) is written by "
                       "no program: the output is only partly computed",
                       {"tensor": arg_name, "coordinate": missing})
    if not quantified:
        return Finding(kernel, "coverage", label, "unknown", time.perf_counter() - start,
                       "no writer constructed for every element, and the quantified query "
                       "timed out on the same stores before: coverage not proved")
    for n, (s, grid) in enumerate(stores):
        sub, free = _renamed(s, f"_s{n}")
        body = z3.And(grid_bounds(grid) + lane_bounds(s.shape) + s.ctx +
                      [s.mask, s.offset == element])
        cs.append(z3.ForAll(free, z3.Not(sub(body))))
    solver = z3.Solver()
    solver.set("timeout", COVERAGE_TIMEOUT_MS)
    solver.add(*cs)
    result = solver.check()
    seconds = time.perf_counter() - start
    if result == z3.unsat:
        return Finding(kernel, "coverage", label, "proved", seconds)
    if result == z3.unknown:
        return Finding(kernel, "coverage", label, "unknown", seconds,
                       "solver time-out: coverage not proved (the harness's NaN poisoning "
                       "still catches unwritten elements on the inputs it runs)")
    m = solver.model()
    coord = [_value(m, c) for c in coords]
    return Finding(kernel, "coverage", label, "violated", seconds,
                   f"element {coord} of {arg_name} ({tensor.describe()}) is written by no "
                   "program: the output is only partly computed",
                   {"tensor": arg_name, "coordinate": coord})
