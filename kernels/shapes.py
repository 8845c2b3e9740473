"""Configurations per shape class. A template marked SHAPE_AWARE reads its tunables per call,
from a table rendered into the kernel file: the configuration the search found fastest for
each input set's shape class (the first input's dimensions, each rounded up to a power of two:
`tools.bench.runtime.shape_class`, which the screen reports per set), and a default for every
other shape. So a (33, 4096) input gets its own warps instead of the (8192, 4096) set's, as
`triton.autotune` keys would give it, but chosen by the search and written down, with nothing
timed inside the candidate.

    config = {"MAX_SINGLE": 16384, "WARPS_PER_KB": 2, "by_shape": {"64x4096": {...}}}
    rendered(SOURCE, config)  # the template's source with its CONFIGS table and config_for(x)
"""
from __future__ import annotations

import math
from string import Template

BY_SHAPE = "by_shape"  # the key of a configuration's per-class table (JSON: string keys)


def default_of(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != BY_SHAPE}


def rendered(source: str, config: dict, **fields) -> str:
    """A SHAPE_AWARE template's source (a `string.Template` with $CONFIG_TABLE) with the
    configuration's table and the template's other fields filled in."""
    return Template(source).substitute(CONFIG_TABLE=table_source(config), **fields)


def table_source(config: dict) -> str:
    table = {"default": default_of(config), **config.get(BY_SHAPE, {})}
    rows = "".join(f"    {key!r}: {value!r},\n" for key, value in table.items())
    return f'''# tunables per shape class (the first input's dimensions rounded up to powers of
# two), as autodocket's search chose them per input set; every other shape takes the default
CONFIGS = {{
{rows}}}


def config_for(x):
    key = "x".join(str(triton.next_power_of_2(d)) for d in x.shape)
    return CONFIGS.get(key, CONFIGS["default"])

'''


def composed(configs: list[dict], times: list[dict[str, float | None]], classes: dict[str, str],
             default_set: str = "default") -> dict | None:
    """From the screen: `configs[i]` timed `times[i][set]` ms on each input set whose shape
    class is `classes[set]`. The fastest on the default set as the default, and for each
    other set's class the fastest there where that is another configuration; None where one
    configuration is fastest everywhere (nothing to compose)."""
    def fastest(label):
        timed = [(t.get(label), i) for i, t in enumerate(times) if t.get(label) is not None]
        return min(timed)[1] if timed else None
    best = fastest(default_set)
    if best is None:
        return None
    by_shape = {}
    for label, key in classes.items():
        winner = fastest(label)
        if winner is not None and winner != best and key != classes.get(default_set) and \
                key not in by_shape:
            by_shape[key] = default_of(configs[winner])
    return {**default_of(configs[best]), BY_SHAPE: by_shape} if by_shape else None


def composed_times(config: dict, configs: list[dict], times: list[dict[str, float | None]],
                   classes: dict[str, str]) -> dict[str, float | None]:
    """What the screen's times say the composed `config` takes on each set: the time there of
    the configuration its table gives that set's class."""
    def time_of(label):
        wanted = config.get(BY_SHAPE, {}).get(classes.get(label), default_of(config))
        return next((t.get(label) for c, t in zip(configs, times) if default_of(c) == wanted),
                    None)
    return {label: time_of(label) for label in classes}


SMALL_SET_BYTES = 1 << 20  # a set moving less is mostly launch latency: timed, not ranked


def ranked_by_every_set(times: list[dict[str, float | None]], moved: dict[str, int] | None = None,
                        default_set: str = "default") -> list[int]:
    """The candidates' indices, best first, from each one's time on each input set: by the
    geometric mean over the sets of its time over the fastest candidate's there (1.0: fastest
    on every set), ties by the default set's time. A candidate fastest on the default set but
    slow on the odd shapes ranks behind one near the fastest on all of them (the goal is every
    shape, not the default's); one not timed on some set ranks last. `moved`: the bytes each
    set's reference reads and writes; the sets under SMALL_SET_BYTES count only where no set
    is larger (their few microseconds are launch latency and noise more than the kernel), and
    then only to break a tie: a composed candidate that takes the same configuration as
    another on the large sets and a faster one on the small sets goes first."""
    labels = sorted({label for t in times for label, ms in t.items() if ms})
    large = [label for label in labels if (moved or {}).get(label, SMALL_SET_BYTES) >=
             SMALL_SET_BYTES]
    small = [label for label in labels if label not in large] if large else []
    labels = large or labels

    def over_best(sets: list[str]):
        best = {label: min(t[label] for t in times if t.get(label)) for label in sets}

        def score(t: dict) -> float:
            if any(not t.get(label) for label in sets):
                return math.inf
            return round(sum(math.log(t[label] / best[label]) for label in sets) /
                         max(1, len(sets)), 9)  # equal scores tie exactly
        return score
    ranked, tie_break = over_best(labels), over_best(small)

    def key(i: int) -> tuple[float, float, float]:
        t = times[i]
        return ranked(t), t.get(default_set) or math.inf, tie_break(t)
    return sorted(range(len(times)), key=key)
