"""Triton helper functions a compiler seed's kernels call, written here so a seed is one file
that needs only Triton: Inductor's kernels call its own runtime helpers (reductions that carry
NaN, Welford variance, arg-max with the first index on ties) and libdevice, which Triton's CPU
interpreter lacks. `helpers_needed(names)` gives the definitions of those a kernel calls, callees
first."""
from __future__ import annotations

# name -> (definition, helpers it calls)
HELPERS: dict[str, tuple[str, tuple[str, ...]]] = {
    # tl.max / tl.min rather than a reduce over `maximum`: the interpreter runs a reduce with
    # a combine function of ours element by element, thousands of times slower
    "max2": ('''
@triton.jit
def max2(a, dim):
    return tl.max(a, dim)
''', ()),
    "min2": ('''
@triton.jit
def min2(a, dim):
    return tl.min(a, dim)
''', ()),
    "product": ('''
@triton.jit
def product(a, b):
    return a * b
''', ()),
    "prod": ('''
@triton.jit
def prod(a, dim):
    return tl.reduce(a, dim, product)
''', ("product",)),
    "either": ('''
@triton.jit
def either(a, b):
    return a | b
''', ()),
    "reduce_any": ('''
@triton.jit
def reduce_any(a, dim):
    return tl.reduce(a, dim, either)
''', ("either",)),
    "select_one": ('''
@triton.jit
def select_one(x, mask, dim, keep_dims=False):
    # the one element of x where mask holds, along dim
    return tl.sum(tl.where(mask, x, 0), dim, keep_dims=keep_dims)
''', ()),
    "promote_to_tensor": ('''
@triton.jit
def promote_to_tensor(x):
    return x + tl.zeros((1,), tl.int1)
''', ()),
    "welford_reduce": ('''
@triton.jit
def welford_reduce(value, mean, m2, weight, first_iteration):
    # one more sample into each running (mean, sum of squared deviations, count)
    if first_iteration:
        new_weight = tl.full(weight.shape, 1, weight.dtype)
        new_mean = value
        new_m2 = tl.zeros_like(m2)
    else:
        delta = value - mean
        new_weight = weight + 1
        new_mean = mean + delta / new_weight
        new_m2 = m2 + delta * (value - new_mean)
    return new_mean, new_m2, new_weight
''', ()),
    "welford_combine": ('''
@triton.jit
def welford_combine(mean_1, m2_1, weight_1, mean_2, m2_2, weight_2):
    # Chan et al.: two partial (mean, M2, count) into one
    delta = mean_2 - mean_1
    new_weight = weight_1 + weight_2
    share = tl.where(new_weight == 0.0, 0.0, weight_2 / new_weight)
    return (mean_1 + delta * share, m2_1 + m2_2 + delta * delta * weight_1 * share,
            new_weight)
''', ()),
    "welford": ('''
@triton.jit
def welford(mean, m2, weight, dim):
    # partial (mean, M2, count) along dim into one, by sums (the parallel-axis identity:
    # M2 = sum M2_i + sum n_i (mean_i - mean)^2), which the interpreter runs fast
    total = tl.sum(weight, dim)
    new_mean = tl.sum(mean * weight, dim) / tl.where(total == 0.0, 1.0, total)
    spread = mean - tl.expand_dims(new_mean, dim)
    return new_mean, tl.sum(m2 + weight * spread * spread, dim), total
''', ()),
    "div_floor_integer": ('''
@triton.jit
def div_floor_integer(a, b):
    # Python's floor division for integers (C truncates toward zero)
    quotient = a // b
    remainder = a % b
    return tl.where((remainder != 0) & ((a < 0) != (b < 0)), quotient - 1, quotient)
''', ()),
    "remainder_integer": ('''
@triton.jit
def remainder_integer(a, b):
    remainder = a % b
    return tl.where((remainder != 0) & ((a < 0) != (b < 0)), remainder + b, remainder)
''', ()),
}


def _extremes() -> dict[str, tuple[str, tuple[str, ...]]]:
    """maximum / minimum (NaN wins, as in torch.maximum); maximum_with_index / minimum_with_index
    (elementwise: the extreme and, on a tie, the smaller index, as torch.argmax) and
    max_with_index / min_with_index (the same along a dimension), by tl.max / tl.min where a
    reduction is needed: the interpreter runs a reduce over a combine function of ours
    element by element, thousands of times slower."""
    out = {}
    for kind, beats in (("max", ">"), ("min", "<")):
        out[f"{kind}imum"] = (f'''
@triton.jit
def {kind}imum(a, b):
    take_a = a {beats} b
    if a.dtype.is_floating():
        take_a |= a != a
    return tl.where(take_a, a, b)
''', ())
        out[f"{kind}imum_with_index"] = (f'''
@triton.jit
def {kind}imum_with_index(a_value, a_index, b_value, b_index):
    take_a = a_value {beats} b_value
    tie = a_value == b_value
    if a_value.dtype.is_floating():
        a_nan = a_value != a_value
        b_nan = b_value != b_value
        take_a |= a_nan & (b_value == b_value)
        tie |= a_nan & b_nan
    take_a |= tie & (a_index < b_index)
    return tl.where(take_a, a_value, b_value), tl.where(take_a, a_index, b_index)
''', ())
        out[f"{kind}_with_index"] = (f'''
@triton.jit
def {kind}_with_index(value, index, dim):
    best = tl.{kind}(value, dim)
    wide = tl.expand_dims(best, dim)
    holds = (value == wide) | ((value != value) & (wide != wide))
    return best, tl.min(tl.where(holds, index, 2147483647), dim)
''', ())
    return out


HELPERS.update(_extremes())

# Inductor's helper names that would shadow a Python builtin in the seed's file
RENAMED = {"any": "reduce_any"}

# libdevice functions the CPU interpreter has under tl.math
INTERPRETED_MATH = {"exp", "exp2", "log", "log2", "sqrt", "rsqrt", "erf", "abs", "floor", "ceil",
                    "sin", "cos", "fma"}

# the others, for a seed written for the CPU interpreter, from what it has
PORTABLE_LIBDEVICE: dict[str, str] = {
    "tanh": '''
@triton.jit
def libdevice_tanh(x):
    # 1 - 2 / (exp(2x) + 1): exact at both ends, no inf / inf
    return 1.0 - 2.0 / (tl.math.exp(2.0 * x) + 1.0)
''',
    "log1p": '''
@triton.jit
def libdevice_log1p(x):
    return tl.math.log(1.0 + x)
''',
    "expm1": '''
@triton.jit
def libdevice_expm1(x):
    return tl.math.exp(x) - 1.0
''',
    "pow": '''
@triton.jit
def libdevice_pow(x, y):
    magnitude = tl.math.exp(y * tl.math.log(tl.math.abs(x)))
    odd = (y == tl.math.floor(y)) & ((tl.math.floor(y * 0.5) * 2.0) != y)
    signed = tl.where((x < 0) & odd, -magnitude, magnitude)
    return tl.where(x == 0, tl.where(y == 0, 1.0, tl.where(y > 0, 0.0, float("inf"))), signed)
''',
    "isnan": '''
@triton.jit
def libdevice_isnan(x):
    return x != x
''',
    "isinf": '''
@triton.jit
def libdevice_isinf(x):
    return tl.math.abs(x) == float("inf")
''',
    "signbit": '''
@triton.jit
def libdevice_signbit(x):
    return x < 0
''',
    "nearbyint": '''
@triton.jit
def libdevice_nearbyint(x):
    # round half to even
    below = tl.math.floor(x)
    frac = x - below
    even = (below * 0.5) == tl.math.floor(below * 0.5)
    return tl.where(frac > 0.5, below + 1.0,
                    tl.where(frac < 0.5, below, tl.where(even, below, below + 1.0)))
''',
    "trunc": '''
@triton.jit
def libdevice_trunc(x):
    return tl.where(x < 0, tl.math.ceil(x), tl.math.floor(x))
''',
    "atan": '''
@triton.jit
def libdevice_atan(x):
    # atan(x) = 2 atan(x / (1 + sqrt(1 + x^2))), then a series on |t| <= tan(pi/8)
    t = x / (1.0 + tl.math.sqrt(1.0 + x * x))
    t = t / (1.0 + tl.math.sqrt(1.0 + t * t))
    t2 = t * t
    series = t * (1.0 - t2 * (1.0 / 3.0 - t2 * (1.0 / 5.0 - t2 * (1.0 / 7.0 - t2 * (
        1.0 / 9.0 - t2 * (1.0 / 11.0))))))
    return 4.0 * series
''',
}


def helpers_needed(names: set[str]) -> list[str]:
    """The definitions for `names` and what they call, callees first."""
    ordered: list[str] = []

    def add(name: str) -> None:
        if name in ordered:
            return
        for callee in HELPERS[name][1]:
            add(callee)
        ordered.append(name)

    for name in sorted(names):
        add(name)
    return [HELPERS[n][0] for n in ordered]
