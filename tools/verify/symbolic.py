"""Symbolic execution of one kernel's TTIR over Z3 integers.

Every value is a function of symbolic indices: program ids `pid0..2` (within the grid), one lane
variable per tensor axis (`ax0`, `ax1`, ...: the element's index along that axis of the value's
own shape) and one iteration variable per loop. Index arithmetic, masks and pointer offsets are
modelled exactly; floating-point data is opaque. Each load, store and atomic becomes an `Access`
that the solver checks.

Loops are analysed once with a symbolic iteration `it`: the induction variable is
`lb + it*step` with `it >= 0` and `iv < ub`; a loop-carried pointer or integer whose update is
`addptr(arg, d)` / `addi(arg, d)` with `d` loop-invariant is `init + it*d`. `scf.if` branches carry
their condition as a path condition. What is not modelled poisons the values that depend on it,
and an access reached by such a value is reported "unsupported", never passed.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import z3

from .ttir import Op, Type

PIDS = [z3.Int(f"pid{i}") for i in range(3)]


def ax(k: int) -> z3.ArithRef:
    return z3.Int(f"ax{k}")


@dataclass
class Sym:
    kind: str  # int | bool | ptr | desc | data | unsupported
    shape: tuple[int, ...]
    expr: object = None  # z3 term: the value (int/bool) or the element offset (ptr); for a
    # TMA descriptor (desc), its (shape, strides, block shape) as the launch built it
    base: int | None = None  # ptr: index of the kernel argument it points into
    data_dep: bool = False  # depends on values loaded from memory
    why: str | None = None  # unsupported: what was not modelled, and where


@dataclass
class Loop:
    it: z3.ArithRef
    iv: object
    name: str
    line: int | None


@dataclass
class Access:
    kind: str  # load | store | atomic
    line: int | None
    arg: int | None
    shape: tuple[int, ...]
    offset: object
    mask: object
    ctx: list
    loops: list[Loop]
    why: str | None = None
    data_dep: bool = False


# ops whose memory effects are not modelled: their presence makes the kernel unsupported
_MEMORY_OPS = re.compile(r"descriptor|tensor_ptr|advance|tma|inline_asm|"
                         r"gather|scatter|histogram|experimental|async")
_CMP = {"slt": lambda a, b: a < b, "sle": lambda a, b: a <= b, "sgt": lambda a, b: a > b,
        "sge": lambda a, b: a >= b, "ult": lambda a, b: a < b, "ule": lambda a, b: a <= b,
        "ugt": lambda a, b: a > b, "uge": lambda a, b: a >= b, "eq": lambda a, b: a == b,
        "ne": lambda a, b: a != b}


def _trunc_div(a, b):
    """C division (rounds toward zero), as arith.divsi does; Z3's `/` rounds down."""
    return z3.If(a >= 0, a / b, -((-a) / b))


def _trunc_rem(a, b):
    return a - b * _trunc_div(a, b)


def int_value(expr) -> int | None:
    expr = z3.simplify(expr)
    return expr.as_long() if z3.is_int_value(expr) else None


def depends_on(expr, var) -> bool:
    seen = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_const(e) and e.eq(var):
            return True
        stack.extend(e.children())
    return False


class KernelExecutor:
    """Walks a kernel's ops and collects its memory accesses."""

    def __init__(self, args: list[Sym], grid: tuple[int, int, int]):
        self.args = args
        self.grid = grid
        self.env: dict[str, Sym] = {}
        self.accesses: list[Access] = []
        self.unsupported: list[str] = []
        self.ctx: list = []
        self.loops: list[Loop] = []
        self.recording = True
        self._fresh = itertools.count()

    # helpers ---------------------------------------------------------------------------
    def fresh(self, prefix: str) -> z3.ArithRef:
        return z3.Int(f"{prefix}{next(self._fresh)}")

    def get(self, name: str) -> Sym:
        try:
            return self.env[name]
        except KeyError:
            return Sym("unsupported", (), why=f"value {name} defined outside the analysed IR")

    def opaque(self, t: Type, op: Op, data_dep: bool = True) -> Sym:
        """A value whose content is not modelled: data, or an unconstrained integer."""
        if t.is_ptr:
            return Sym("unsupported", t.shape, why=f"{op.name} at line {op.line}")
        if t.is_bool:
            return Sym("bool", t.shape, z3.Bool(f"b{next(self._fresh)}"), data_dep=data_dep)
        if t.is_int:
            return Sym("int", t.shape, self.fresh("v"), data_dep=data_dep)
        return Sym("data", t.shape)

    @staticmethod
    def combine(kind: str, shape, expr, *parts: Sym, base=None) -> Sym:
        for p in parts:
            if p.kind == "unsupported":
                return Sym("unsupported", shape, why=p.why)
        return Sym(kind, shape, expr, base=base, data_dep=any(p.data_dep for p in parts))

    @staticmethod
    def substitute(sym: Sym, shape, pairs) -> Sym:
        if sym.expr is None or not pairs:
            return Sym(sym.kind, shape, sym.expr, sym.base, sym.data_dep, sym.why)
        return Sym(sym.kind, shape, z3.substitute(sym.expr, *pairs), sym.base, sym.data_dep,
                   sym.why)

    # walking ---------------------------------------------------------------------------
    def run(self, ops: list[Op]) -> None:
        for op in ops:
            self.step(op)

    def step(self, op: Op) -> None:
        name = op.name
        handler = getattr(self, "op_" + name.replace(".", "_"), None)
        if handler is not None:
            results = handler(op)
        elif name.startswith(("arith.", "math.")) and op.types and not op.types[0].is_ptr \
                and not op.types[0].is_int:
            results = [Sym("data", op.types[0].shape)]  # float arithmetic
        else:
            if _MEMORY_OPS.search(name):
                self.unsupported.append(f"unsupported: {name} at line {op.line}")
            results = [self.opaque(t, op) for t in op.types]
            if not op.types and op.results:
                results = [Sym("unsupported", (), why=f"{name} at line {op.line}")
                           for _ in op.results]
        for res, val in zip(op.results, results or []):
            self.env[res] = val

    def op_tt_extern_elementwise(self, op: Op):
        """A libdevice call (GPU Inductor's tanh, erf, rsqrt, isnan ...). A pure one touches no
        memory: its results are values nothing is known about. An impure one stays unsupported."""
        if "pure = true" not in op.text:
            self.unsupported.append(f"unsupported: impure {op.name} at line {op.line}")
        return [self.opaque(t, op) for t in op.types]

    # constants, ids, ranges -------------------------------------------------------------
    def op_arith_constant(self, op: Op):
        t = op.types[0] if op.types else Type((), "i1")
        m = re.match(r"(?:dense<)?(-?\d+|true|false)>?\s*:", op.text)
        if t.is_bool and m:
            return [Sym("bool", t.shape, z3.BoolVal(m.group(1) in ("true", "1", "-1")))]
        if t.is_int and m and m.group(1) not in ("true", "false"):
            return [Sym("int", t.shape, z3.IntVal(int(m.group(1))))]
        return [self.opaque(t, op, data_dep=False)]

    def op_tt_get_program_id(self, op: Op):
        return [Sym("int", (), PIDS["xyz".index(op.text.split()[0])])]

    def op_tt_get_num_programs(self, op: Op):
        return [Sym("int", (), z3.IntVal(self.grid["xyz".index(op.text.split()[0])]))]

    def op_tt_make_range(self, op: Op):
        start = int(op.attr("start") or 0)
        return [Sym("int", op.types[0].shape, start + ax(0))]

    def op_ub_poison(self, op: Op):
        return [Sym("unsupported", op.types[0].shape if op.types else (),
                    why=f"poison value at line {op.line}")]

    # shape ops -------------------------------------------------------------------------
    def op_tt_splat(self, op: Op):
        src = self.get(op.operands[0])
        return [self.substitute(src, op.types[0].shape, [])]

    def op_tt_broadcast(self, op: Op):
        src = self.get(op.operands[0])
        dst = op.types[0].shape
        pairs = [(ax(k), z3.IntVal(0)) for k, (a, b) in enumerate(zip(src.shape, dst))
                 if a == 1 and b != 1]
        return [self.substitute(src, dst, pairs)]

    def op_tt_expand_dims(self, op: Op):
        src = self.get(op.operands[0])
        d = int(op.attr("axis"))
        pairs = [(ax(k), ax(k + 1)) for k in range(d, len(src.shape))]
        return [self.substitute(src, op.types[0].shape, pairs)]

    def op_tt_trans(self, op: Op):
        src = self.get(op.operands[0])
        m = re.search(r"order\s*=\s*array<i32:\s*([\d,\s]+)>", op.text)
        order = [int(x) for x in m.group(1).split(",")] if m else list(range(len(src.shape)))[::-1]
        pairs = [(ax(order[i]), ax(i)) for i in range(len(order)) if order[i] != i]
        return [self.substitute(src, op.types[0].shape, pairs)]

    def op_tt_reshape(self, op: Op):
        src = self.get(op.operands[0])
        dst = op.types[0].shape
        linear = z3.IntVal(0)
        for k, d in enumerate(dst):
            linear = linear * d + ax(k)
        pairs, stride = [], 1
        for k in reversed(range(len(src.shape))):  # z3.substitute is simultaneous
            pairs.append((ax(k), (linear / stride) % src.shape[k]))
            stride *= src.shape[k]
        return [self.substitute(src, dst, pairs)]

    # integer arithmetic ----------------------------------------------------------------
    def _binary(self, op: Op, fn):
        a, b = self.get(op.operands[0]), self.get(op.operands[1])
        t = op.types[0]
        if a.kind == "unsupported" or b.kind == "unsupported":
            return [self.combine("int", t.shape, None, a, b)]
        if a.kind not in ("int", "bool") or b.kind not in ("int", "bool"):
            return [self.opaque(t, op)]
        expr = fn(a.expr, b.expr)
        if expr is None:
            return [Sym("unsupported", t.shape, why=f"{op.name} on indices at line {op.line}")]
        return [self.combine("bool" if z3.is_bool(expr) else "int", t.shape, expr, a, b)]

    def op_arith_addi(self, op):
        return self._binary(op, lambda a, b: a + b)

    def op_arith_subi(self, op):
        return self._binary(op, lambda a, b: a - b)

    def op_arith_muli(self, op):
        return self._binary(op, lambda a, b: a * b)

    def op_arith_divsi(self, op):
        return self._binary(op, _trunc_div)

    def op_arith_divui(self, op):
        return self._binary(op, lambda a, b: a / b)

    def op_arith_remsi(self, op):
        return self._binary(op, _trunc_rem)

    def op_arith_remui(self, op):
        return self._binary(op, lambda a, b: a % b)

    def op_arith_ceildivsi(self, op):
        return self._binary(op, lambda a, b: -((-a) / b))

    def op_arith_floordivsi(self, op):
        return self._binary(op, lambda a, b: a / b)

    def op_arith_maxsi(self, op):
        return self._binary(op, lambda a, b: z3.If(a >= b, a, b))

    op_arith_maxui = op_arith_maxsi

    def op_arith_minsi(self, op):
        return self._binary(op, lambda a, b: z3.If(a <= b, a, b))

    op_arith_minui = op_arith_minsi

    def _bitwise(self, op, bool_fn):
        def fn(a, b):
            if z3.is_bool(a) and z3.is_bool(b):
                return bool_fn(a, b)
            if op.name == "arith.andi":  # x & (2^k - 1) == x mod 2^k for x >= 0
                for x, m in ((a, b), (b, a)):
                    k = int_value(m)
                    if k is not None and k >= 0 and (k + 1) & k == 0:
                        return x % (k + 1)
            return None
        return self._binary(op, fn)

    def op_arith_andi(self, op):
        return self._bitwise(op, z3.And)

    def op_arith_ori(self, op):
        return self._bitwise(op, z3.Or)

    def op_arith_xori(self, op):
        return self._bitwise(op, z3.Xor)

    def op_arith_shli(self, op):
        def fn(a, b):
            k = int_value(b)
            return a * (2 ** k) if k is not None and k >= 0 else None
        return self._binary(op, fn)

    def op_arith_shrsi(self, op):
        def fn(a, b):
            k = int_value(b)
            return a / (2 ** k) if k is not None and k >= 0 else None
        return self._binary(op, fn)

    op_arith_shrui = op_arith_shrsi

    def op_arith_cmpi(self, op):
        pred = op.text.split(",")[0].strip()
        return self._binary(op, lambda a, b: _CMP[pred](a, b))

    def _cast(self, op):
        src = self.get(op.operands[0])
        t = op.types[0]
        if src.kind in ("int", "bool", "unsupported") and (t.is_int or t.is_bool):
            if src.kind == "bool" and not t.is_bool:
                return [Sym("int", t.shape, z3.If(src.expr, 1, 0), data_dep=src.data_dep)]
            return [self.substitute(src, t.shape, [])]
        return [self.opaque(t, op)]

    op_arith_extsi = op_arith_extui = op_arith_trunci = op_arith_index_cast = _cast
    op_arith_bitcast = op_tt_int_to_ptr = _cast

    def op_tt_bitcast(self, op):
        """A pointer cast between element types of one byte (a bool tensor is read through an
        i8 pointer: Inductor's masks): the same elements, so the same pointer. Other casts
        are left unmodelled."""
        src, t = self.get(op.operands[0]), op.types[0]
        source_type = op.text.split("->")[0]  # "%x : tensor<Nx!tt.ptr<i1>> -> tensor<...>"
        if src.kind == "ptr" and re.fullmatch(r"ptr<[iu](1|8)>", t.elem) and \
                re.search(r"!tt\.ptr<[iu](1|8)>", source_type):
            return [self.substitute(src, t.shape, [])]
        return [self.opaque(t, op)]

    def op_arith_select(self, op):
        c, a, b = (self.get(o) for o in op.operands[:3])
        t = op.types[0]
        if a.kind == "data" and b.kind == "data":
            return [Sym("data", t.shape)]
        if c.kind != "bool" or a.kind != b.kind or a.kind not in ("int", "bool", "ptr") \
                or a.base != b.base:
            return [self.combine("unsupported", t.shape, None, c, a, b) if
                    "unsupported" in (c.kind, a.kind, b.kind) else
                    Sym("unsupported", t.shape, why=f"select at line {op.line}")]
        return [self.combine(a.kind, t.shape, z3.If(c.expr, a.expr, b.expr), c, a, b,
                             base=a.base)]

    # pointers and memory ---------------------------------------------------------------
    def op_tt_addptr(self, op):
        p, off = self.get(op.operands[0]), self.get(op.operands[1])
        t = op.types[0]
        if p.kind != "ptr" or off.kind != "int":
            return [self.combine("unsupported", t.shape, None, p, off)
                    if "unsupported" in (p.kind, off.kind)
                    else Sym("unsupported", t.shape, why=f"addptr at line {op.line}")]
        return [self.combine("ptr", t.shape, p.expr + off.expr, p, off, base=p.base)]

    def _access(self, kind: str, op: Op, ptr: Sym, mask: Sym | None) -> None:
        if not self.recording:
            return
        why = None
        if ptr.kind != "ptr":
            why = ptr.why or f"pointer not modelled at line {op.line}"
        elif mask is not None and mask.kind != "bool":
            why = mask.why or f"mask not modelled at line {op.line}"
        self.accesses.append(Access(
            kind, op.line, ptr.base, ptr.shape, ptr.expr,
            z3.BoolVal(True) if mask is None or mask.kind != "bool" else mask.expr,
            list(self.ctx), list(self.loops), why,
            ptr.data_dep or (mask is not None and mask.data_dep)))

    def op_tt_load(self, op):
        ptr = self.get(op.operands[0])
        mask = self.get(op.operands[1]) if len(op.operands) > 1 else None
        self._access("load", op, ptr, mask)
        return [self.opaque(op.types[0], op)]

    def op_tt_store(self, op):
        ptr = self.get(op.operands[0])
        mask = self.get(op.operands[2]) if len(op.operands) > 2 else None
        self._access("store", op, ptr, mask)
        return []

    def _box(self, op: Op, kind: str) -> None:
        """A TMA box at the given coordinates: element (i, j, ..) of the block is at
        coords + lanes in the descriptor's index space; the hardware skips (loads: fills
        with zeros, stores: drops) elements outside the descriptor's shape, which is the
        access's mask. Its offsets are checked against the tensor the descriptor was made of."""
        desc = self.get(op.operands[0])
        if desc.kind != "desc":
            self._access(kind, op, Sym("unsupported", (), why=desc.why or
                                       f"descriptor not modelled at line {op.line}"), None)
            return
        dims, strides, block = desc.expr
        coords = [self.get(o) for o in op.operands[1:1 + len(block)]]
        if any(c.kind != "int" for c in coords):
            bad = next(c for c in coords if c.kind != "int")
            self._access(kind, op, Sym("unsupported", tuple(block), why=bad.why or
                                       f"coordinate not modelled at line {op.line}"), None)
            return
        index = [c.expr + ax(k) for k, c in enumerate(coords)]
        offset = z3.Sum([i * st for i, st in zip(index, strides)])
        inside = z3.And([z3.And(i >= 0, i < n) for i, n in zip(index, dims)])
        ptr = self.combine("ptr", tuple(block), offset, *coords, base=desc.base)
        self._access(kind, op, ptr, self.combine("bool", tuple(block), inside, *coords))

    def op_tt_descriptor_load(self, op):
        self._box(op, "load")
        return [self.opaque(op.types[0], op)]

    def op_tt_descriptor_store(self, op):
        self._box(op, "store")
        return []

    def op_tt_atomic_rmw(self, op):
        ptr = self.get(op.operands[0])
        mask = self.get(op.operands[2]) if len(op.operands) > 2 else None
        self._access("atomic", op, ptr, mask)
        return [self.opaque(op.types[0], op)] if op.types else []

    def op_tt_atomic_cas(self, op):
        self._access("atomic", op, self.get(op.operands[0]), None)
        return [self.opaque(op.types[0], op)] if op.types else []

    # control flow ----------------------------------------------------------------------
    def op_tt_return(self, op):
        return []

    def op_scf_yield(self, op):
        return []

    def op_tt_assert(self, op):
        return []

    def op_tt_print(self, op):
        return []

    def op_tt_reduce(self, op):
        return [self.opaque(t, op) for t in op.types]  # combine regions work on data

    op_tt_scan = op_tt_reduce

    def op_scf_if(self, op):
        cond = self.get(op.operands[0])
        results = []
        branch_vals = []
        for i, region in enumerate(op.regions):
            guard = [] if cond.kind != "bool" else [cond.expr if i == 0 else z3.Not(cond.expr)]
            self.ctx += guard
            self.run(region)
            del self.ctx[len(self.ctx) - len(guard):]
            y = region[-1] if region and region[-1].name == "scf.yield" else None
            branch_vals.append([self.get(o) for o in y.operands] if y else [])
        for j, t in enumerate(op.types):
            vals = [bv[j] for bv in branch_vals if len(bv) > j]
            if len(vals) == 2 and cond.kind == "bool" and vals[0].kind == vals[1].kind \
                    and vals[0].kind in ("int", "bool", "ptr") and vals[0].base == vals[1].base:
                results.append(self.combine(vals[0].kind, t.shape,
                                            z3.If(cond.expr, vals[0].expr, vals[1].expr),
                                            cond, *vals, base=vals[0].base))
            elif all(v.kind == "data" for v in vals):
                results.append(Sym("data", t.shape))
            else:
                results.append(Sym("unsupported", t.shape,
                                   why=f"value merged by scf.if at line {op.line}"))
        return results

    def op_scf_for(self, op):
        m = re.match(r"(%[-\w#]+)\s*=\s*(%[-\w#]+)\s+to\s+(%[-\w#]+)\s+step\s+(%[-\w#]+)"
                     r"(?:\s+iter_args\((.*?)\))?", op.text)
        iv_name, lb_n, ub_n, step_n, iter_text = m.groups()
        pairs = re.findall(r"(%[-\w#]+)\s*=\s*(%[-\w#]+)", iter_text or "")
        lb, ub, step = self.get(lb_n), self.get(ub_n), self.get(step_n)
        body = op.regions[0]
        loop_why = next((v.why for v in (lb, ub, step) if v.kind != "int"), None)
        step_value = int_value(step.expr) if step.kind == "int" else None
        if loop_why is None and step_value in (None, 0):
            loop_why = f"loop step not a constant at line {op.line}"
        it = self.fresh("it")
        if loop_why is None:
            iv = lb.expr + it * step_value
            bound = [it >= 0, iv < ub.expr if step_value > 0 else iv > ub.expr]
            self.env[iv_name] = self.combine("int", (), iv, lb, ub, step)
        else:
            bound = []
            self.env[iv_name] = Sym("unsupported", (), why=loop_why)
        inits = [self.get(init) for _, init in pairs]
        # pass 1, recording nothing: which loop-carried values advance by an invariant step
        for (arg, _), init in zip(pairs, inits):
            self.env[arg] = Sym("unsupported", init.shape, why="loop-carried (first pass)")
        recording, self.recording = self.recording, False
        self.ctx += bound
        self.run(body)
        self.recording = recording
        defs = {r: o for o in body for r in o.results}
        yields = body[-1].operands if body and body[-1].name == "scf.yield" else []
        deltas = []
        for j, ((arg, _), init) in enumerate(zip(pairs, inits)):
            y = yields[j] if j < len(yields) else None
            carried, delta = self._carried(arg, init, y, defs, it, op)
            self.env[arg] = carried
            deltas.append(delta)
        # pass 2: the real walk, every access under the loop's bounds
        if loop_why is None:
            self.loops.append(Loop(it, self.env[iv_name].expr, iv_name.lstrip("%"), op.line))
        self.run(body)
        if loop_why is None:
            self.loops.pop()
        del self.ctx[len(self.ctx) - len(bound):]
        trip = None
        if loop_why is None:
            lb_v, ub_v = int_value(lb.expr), int_value(ub.expr)
            if lb_v is not None and ub_v is not None:
                trip = max(0, -((lb_v - ub_v) // step_value)) if step_value > 0 else \
                    max(0, -((ub_v - lb_v) // -step_value))
        results = []
        for (arg, _), init, delta, t in zip(pairs, inits, deltas, op.types):
            if init.kind == "data":
                results.append(Sym("data", t.shape))
            elif delta is not None and trip is not None:
                results.append(self.combine(init.kind, t.shape, init.expr + trip * delta, init,
                                            base=init.base))
            elif delta is not None and int_value(delta) == 0:
                results.append(init)
            else:
                results.append(Sym("unsupported", t.shape,
                                   why=f"value after the loop at line {op.line}"))
        return results

    def _carried(self, arg: str, init: Sym, y: str | None, defs: dict, it, op: Op):
        """The loop-carried value inside the body, and its per-iteration step if affine."""
        if init.kind == "data":
            return Sym("data", init.shape), None
        if y == arg:
            return init, z3.IntVal(0)
        d = defs.get(y)
        if d is not None and d.name in ("tt.addptr", "arith.addi") and arg in d.operands[:2]:
            other = d.operands[1] if d.operands[0] == arg else d.operands[0]
            if d.name == "tt.addptr" and d.operands[0] != arg:
                other = None
            step = self.get(other) if other else None
            if step is not None and step.kind == "int" and not depends_on(step.expr, it):
                kind = "ptr" if d.name == "tt.addptr" else init.kind
                if init.kind in ("ptr", "int"):
                    return self.combine(kind, init.shape, init.expr + it * step.expr, init, step,
                                        base=init.base), step.expr
        if init.kind == "unsupported":
            return init, None
        how = d.name if d is not None else "a value from outside the loop"
        return Sym("unsupported", init.shape,
                   why=f"loop-carried {init.kind} updated by {how} (loop at line {op.line})"), None


def lane_bounds(shape) -> list:
    return [z3.And(ax(k) >= 0, ax(k) < d) for k, d in enumerate(shape)]


def grid_bounds(grid) -> list:
    return [z3.And(PIDS[k] >= 0, PIDS[k] < g) for k, g in enumerate(grid)]
