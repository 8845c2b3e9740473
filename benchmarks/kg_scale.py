"""Knowledge graph at lab scale: ingest rate and query latency for 1,000,000 facts.

    python benchmarks/kg_scale.py [--facts 1000000] [--backend sqlite|postgresql|both]
                                  [--pg postgresql://postgres@127.0.0.1/postgres]

Synthetic lab: kernels, tasks, devices and concepts with measurements (functional slots that
supersede each other), claims and notes drawn from a small vocabulary. Prints facts/s for the
ingest and p50/p95/p99 latency of 200 two-word queries (with two-hop expansion), and writes
JSON. Goal (issue 8): query p50 < 20 ms and p95 < 100 ms on SQLite on this machine.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from memory.db import make_engine
from memory.kg import FactRecord, KnowledgeGraph

WORDS = ("softmax layernorm rmsnorm gelu swiglu attention matmul quantization int3 int8 fp8 "
         "register pressure occupancy bandwidth coalescing shared memory warp stall spill "
         "tensor core pipeline prefetch cache latency throughput roofline fusion epilogue "
         "scan reduction routing expert moe kv cache decode prefill blackwell hopper").split()


def synthetic(n: int, seed: int = 0):
    rng = random.Random(seed)
    devices = ["NVIDIA H100 80GB HBM3", "NVIDIA H200", "RTX 6000 Blackwell"]
    for i in range(n):
        k = rng.randrange(n // 10 + 1)
        day = 1 + (i * 365 // max(n, 1))
        when = f"2026-{1 + day // 31 % 12:02d}-{1 + day % 28:02d}"
        kind = rng.random()
        words = " ".join(rng.sample(WORDS, 4))
        if kind < 0.4:
            dev = rng.choice(devices)
            yield FactRecord(("kernel", f"kernel-{k}"), "speedup_vs_eager", ("device", dev),
                             value=round(rng.uniform(0.5, 4), 3), valid_from=when,
                             slot=f"kernel:kernel-{k}|eager|{dev}|{i % 7}", status="verified",
                             task_id=f"task-{k}")
        elif kind < 0.7:
            yield FactRecord(("task", f"task-{k}"), "describes", value=f"{words} experiment {i}",
                             valid_from=when, task_id=f"task-{k}", source_line=i % 500)
        elif kind < 0.85:
            yield FactRecord(("task", f"task-{k}"), "claims", ("claim", f"task-{k}: {i}"),
                             value=round(rng.uniform(1, 3), 2), status="unverified",
                             valid_from=when, task_id=f"task-{k}")
        else:
            yield FactRecord(("kernel", f"kernel-{k}"), "about",
                             ("concept", rng.choice(WORDS)), valid_from=when)


def run(url: str, n: int, label: str) -> dict:
    kg = KnowledgeGraph(make_engine(url))
    batch, start = [], time.perf_counter()
    for record in synthetic(n):
        batch.append(record)
        if len(batch) == 20_000:
            kg.add(batch)
            batch = []
    if batch:
        kg.add(batch)
    ingest_s = time.perf_counter() - start
    rng = random.Random(1)
    latencies = []
    for _ in range(200):
        q = " ".join(rng.sample(WORDS, 2))
        t0 = time.perf_counter()
        kg.query(q, as_of=rng.choice([None, "2026-06-01"]))
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    pct = lambda p: latencies[int(p * (len(latencies) - 1))]
    return {"backend": label, "facts": kg.count(), "ingest_s": ingest_s,
            "facts_per_s": n / ingest_s, "p50_ms": statistics.median(latencies),
            "p95_ms": pct(0.95), "p99_ms": pct(0.99)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--facts", type=int, default=1_000_000)
    ap.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/kg_scale.json"))
    args = ap.parse_args()
    rows = []
    if args.backend in ("sqlite", "both"):
        folder = tempfile.mkdtemp()
        rows.append(run(f"sqlite:///{folder}/kg.db", args.facts, "sqlite"))
        print(rows[-1], flush=True)
    if args.backend in ("postgresql", "both"):
        import psycopg
        name = f"autodocket_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        try:
            rows.append(run(args.pg.rsplit("/", 1)[0] + "/" + name, args.facts, "postgresql"))
            print(rows[-1], flush=True)
        finally:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    print(f"{'backend':<12}{'facts':>10}{'ingest s':>10}{'facts/s':>10}{'p50 ms':>9}"
          f"{'p95 ms':>9}{'p99 ms':>9}")
    for r in rows:
        print(f"{r['backend']:<12}{r['facts']:>10}{r['ingest_s']:>10.1f}{r['facts_per_s']:>10.0f}"
              f"{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
