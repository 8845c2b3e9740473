"""Nsight Compute: one profiled launch per kernel with a small metric set, read from
`ncu --csv --page raw` (the same parser reads a report a researcher already has).

    rows = parse_csv(text)     # one dict per profiled kernel launch, values in base units
"""
from __future__ import annotations

import csv
import io
import re
import shutil

# explicit metrics (names checked with `ncu --query-metrics --chip gh100`, ncu 2025.3); the
# launch statistics, occupancy limits and warp-stall reasons come from their sections
METRICS = [
    "gpu__time_duration.sum", "dram__bytes_read.sum", "dram__bytes_write.sum",
    "dram__throughput.avg.pct_of_peak_sustained_elapsed",
    "sm__throughput.avg.pct_of_peak_sustained_elapsed",
    "sm__warps_active.avg.pct_of_peak_sustained_active",
    "l1tex__t_sector_hit_rate.pct", "lts__t_sector_hit_rate.pct",
    "l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum",
    "l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum",
    "l1tex__t_sectors_pipe_lsu_mem_local_op_ld.sum",
    "smsp__sass_average_data_bytes_per_sector_mem_global_op_ld.pct",
]
SECTIONS = ["LaunchStats", "Occupancy", "WarpStateStats"]
NVTX_RANGE = "autodocket"  # the profiled child opens it around the launches to profile
_STALL = re.compile(r"^smsp__average_warps_issue_stalled_(\w+?)_per_issue_active\.ratio$")
_SCALE = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
          "n": 1e-9, "u": 1e-6, "m": 1e-3}


def ncu_path() -> str | None:
    return shutil.which("ncu")


def command(report_base: str) -> list[str]:
    """The profiling prefix: caches flushed before each kernel (as the harness does), clocks
    left as they are (the harness times at boost clock too), only the NVTX range's launches."""
    return [ncu_path() or "ncu", "--export", report_base, "--force-overwrite",
            "--nvtx", "--nvtx-include", f"{NVTX_RANGE}/", "--target-processes", "all",
            "--clock-control", "none", "--cache-control", "all",
            "--metrics", ",".join(METRICS), *[a for s in SECTIONS for a in ("--section", s)]]


def export_csv(report_file: str) -> list[str]:
    return [ncu_path() or "ncu", "--import", report_file, "--csv", "--page", "raw",
            "--print-units", "base"]


def _number(text: str, unit: str) -> float | None:
    text = text.strip().replace(",", "")
    if not text or text in ("n/a", "N/A"):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    unit = unit.strip()
    base = next((b for b in ("byte/second", "byte", "second", "cycle", "inst") if
                 unit.endswith(b)), None)
    if base and unit != base:
        prefix = unit[:-len(base)]
        value *= _SCALE.get(prefix, 1)
    if unit.endswith("second") and not unit.endswith("/second"):
        value *= 1e9  # durations in nanoseconds, whatever unit the report used
    return value


def parse_csv(text: str) -> list[dict]:
    """Rows of `ncu --csv --page raw`: the header line starts with "ID", an optional units
    line follows; lines before the header (==PROF== chatter) are skipped. Durations come out
    in ns, bytes in bytes."""
    lines = list(csv.reader(io.StringIO(text)))
    start = next((i for i, row in enumerate(lines) if row and row[0] == "ID"), None)
    if start is None:
        raise ValueError("not an Nsight Compute raw CSV: no header row starting with ID")
    header = lines[start]
    body = lines[start + 1:]
    units = [""] * len(header)
    if body and not body[0][0].strip():  # the units row has no ID
        units, body = body[0] + [""] * (len(header) - len(body[0])), body[1:]
    rows = []
    for row in body:
        if len(row) < len(header) or not row[0].strip():
            continue
        cells = dict(zip(header, row))
        metrics = {}
        for name, value, unit in zip(header, row, units):
            if "__" in name:
                number = _number(value, unit)
                if number is not None:
                    metrics[name] = number
        rows.append({"id": cells.get("ID"), "kernel": cells.get("Kernel Name", "?"),
                     "metrics": metrics, **derive(metrics)})
    return rows


def derive(m: dict) -> dict:
    """The figures the diagnosis reads, from one launch's metrics (None where absent)."""
    get = m.get
    sectors, requests = get("l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum"), \
        get("l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum")
    duration_ns = get("gpu__time_duration.sum")
    dram = None
    if get("dram__bytes_read.sum") is not None:
        dram = get("dram__bytes_read.sum") + (get("dram__bytes_write.sum") or 0)
    stalls = {}
    for name, value in m.items():
        match = _STALL.match(name)
        if match and value:
            stalls[match.group(1)] = value
    top = sorted(stalls.items(), key=lambda kv: -kv[1])[:3]
    limits = {k: get(f"launch__occupancy_limit_{k}") for k in
              ("registers", "shared_mem", "warps", "blocks")}
    return {
        "duration_ns": duration_ns, "dram_bytes": dram,
        "dram_bandwidth": dram / (duration_ns * 1e-9) if dram and duration_ns else None,
        "dram_pct_of_peak": get("dram__throughput.avg.pct_of_peak_sustained_elapsed"),
        "sm_pct_of_peak": get("sm__throughput.avg.pct_of_peak_sustained_elapsed"),
        "achieved_occupancy_pct": get("sm__warps_active.avg.pct_of_peak_sustained_active"),
        "theoretical_occupancy_pct": get("sm__maximum_warps_per_active_cycle_pct"),
        "occupancy_limits": {k: v for k, v in limits.items() if v is not None},
        "l1_hit_pct": get("l1tex__t_sector_hit_rate.pct"),
        "l2_hit_pct": get("lts__t_sector_hit_rate.pct"),
        "sectors_per_request": sectors / requests if sectors and requests else None,
        "sector_use_pct": get("smsp__sass_average_data_bytes_per_sector_mem_global_op_ld.pct"),
        "local_load_sectors": get("l1tex__t_sectors_pipe_lsu_mem_local_op_ld.sum"),
        "registers_per_thread": get("launch__registers_per_thread"),
        "grid_size": get("launch__grid_size"), "block_size": get("launch__block_size"),
        "waves_per_sm": get("launch__waves_per_multiprocessor"),
        "top_stalls": [{"reason": k, "cycles_per_issue": v} for k, v in top],
    }
