"""A short, rule-based reading of a profile: each rule looks at a few numbers and, when they
cross its threshold, says what is wrong in one line, with the numbers. The coder gets these
lines as feedback; evidence and REPORT.md keep them.
"""
from __future__ import annotations

FAR_FROM_CEILING = 0.6  # below this fraction of the binding ceiling the kernel is "far" from it
# above this fraction of the copy ceiling the byte count, not the kernel, is what is off (the
# copy measurement itself moves by a few percent)
ABOVE_COPY_CEILING = 1.05
SECTOR_USE_MIN_PCT = 50  # fewer bytes of each fetched 32-byte sector used: uncoalesced
SECTORS_PER_REQUEST_MAX = 16  # a warp's 128-bit loads of consecutive data touch 16 sectors
TRAFFIC_MAX = 1.5  # DRAM bytes over the minimum the problem needs
OCCUPANCY_LOW_PCT = 40  # theoretical occupancy under this: a launch limit binds
MINOR_SHARE = 0.05  # kernels under this share of the profiled time get no ncu lines
LIMIT_NAMES = {"registers": "registers", "shared_mem": "shared memory", "warps": "warps per block",
               "blocks": "blocks per SM"}


def diagnose(roofline: dict | None, kernels: list[dict], ncu_rows: list[dict] | None,
             sm_count: int | None) -> list[str]:
    notes: list[str] = []
    if roofline:
        notes.append(_roofline_line(roofline))
    for k in distinct_kernels(kernels):
        meta = k.get("metadata", {})
        if meta.get("local_bytes"):
            warps = f" ({meta['num_warps']} warps)" if meta.get("num_warps") else ""
            notes.append(f"register spills in {k['kernel']}: {meta['local_bytes']} bytes of local "
                         f"memory per thread at {meta.get('registers')} registers{warps}: fewer "
                         "live values per thread (smaller blocks or more warps)")
        far = roofline is not None and roofline["fraction_of_ceiling"] < FAR_FROM_CEILING
        few = k["programs"] is not None and sm_count and k["programs"] < sm_count
        if few and far and _main(k, kernels, ncu_rows):
            notes.append(f"latency bound: {k['programs']} programs of {k['kernel']} for "
                         f"{sm_count} SMs: split the work so every SM has programs")
    total_ns = sum(r.get("duration_ns") or 0 for r in ncu_rows or []) or 1
    for row in ncu_rows or []:
        if (row.get("duration_ns") or 0) / total_ns >= MINOR_SHARE:  # a tiny finishing kernel
            notes += _ncu_lines(row, roofline, len(ncu_rows))      # is not worth a line
    return notes


def _roofline_line(r: dict) -> str:
    if r["bound"] == "compute":
        what = f"compute-bound: {r['flops_per_s'] / 1e12:.0f} TFLOP/s"
    else:
        what = f"memory-bound: {r['bandwidth_bytes_per_s'] / 1e12:.2f} TB/s"
    line = f"{what}, {r['fraction_of_ceiling']:.0%} of the card's measured ceiling"
    if r["fraction_of_ceiling"] < FAR_FROM_CEILING:
        line += " (far from it)"
    elif r["bound"] == "memory" and r["fraction_of_ceiling"] > ABOVE_COPY_CEILING:
        line += (" (above it: less came from memory than the byte count, every input read whole,"
                 " assumes: inputs read in part, or from cache)")
    return line


def distinct_kernels(kernels: list[dict]) -> list[dict]:
    """The first launch of each kernel (a kernel launched per row or per layer is one)."""
    first: dict[str, dict] = {}
    for k in kernels:
        first.setdefault(k["kernel"], k)
    return list(first.values())


def _main(k: dict, kernels: list[dict], ncu_rows: list[dict] | None) -> bool:
    """Is this the kernel that takes the time? By ncu's durations where there are some, else
    the launch with the most programs."""
    if ncu_rows:
        timed = [(r.get("duration_ns") or 0, r["kernel"]) for r in ncu_rows]
        total = sum(t for t, _ in timed) or 1
        return any(k["kernel"] in name and t / total >= 0.2 for t, name in timed)
    return k["programs"] == max(x["programs"] or 0 for x in kernels)  # None: a CUDA kernel


def _ncu_lines(row: dict, roofline: dict | None, n_rows: int) -> list[str]:
    name = row["kernel"]
    out = []
    use, spr = row.get("sector_use_pct"), row.get("sectors_per_request")
    # no sectors per request: the kernel made no load requests of its own (TMA's copies do not
    # count as such), and ncu's 0% sector use then means nothing to coalesce
    if spr is not None and (use < SECTOR_USE_MIN_PCT if use is not None else
                            spr > SECTORS_PER_REQUEST_MAX):
        detail = f"{use:.0f}% of each 32-byte sector used, " if use is not None else ""
        detail += f"{spr:.1f} sectors per request"
        out.append(f"uncoalesced global loads in {name}: {detail}: make neighbouring threads "
                   "read neighbouring addresses")
    if roofline and n_rows == 1 and row.get("dram_bytes"):
        traffic = row["dram_bytes"] / roofline["bytes"]
        if traffic > TRAFFIC_MAX:
            out.append(f"{name} moves {traffic:.1f}x the minimum bytes through DRAM")
    if row.get("local_load_sectors"):
        out.append(f"local-memory loads in {name}: {row['local_load_sectors']:.0f} sectors "
                   "(register spills read back)")
    occ, limits = row.get("theoretical_occupancy_pct"), row.get("occupancy_limits") or {}
    if occ is not None and occ < OCCUPANCY_LOW_PCT and limits:  # a launch limit caps it
        tightest = min(limits, key=limits.get)
        out.append(f"occupancy at most {occ:.0f}% in {name}, limited by "
                   f"{LIMIT_NAMES[tightest]} ({limits[tightest]:.0f} blocks per SM)")
    if row.get("top_stalls"):
        stalls = ", ".join(f"{s['reason']} {s['cycles_per_issue']:.1f}"
                           for s in row["top_stalls"])
        out.append(f"top warp stalls in {name} (cycles per issued instruction): {stalls}")
    return out
