"""Benchmark jobs in processes of their own, dealt over this host's GPUs: with more jobs than
GPUs several share a card, which `tools.bench.gpu_lock` makes safe (each timed phase has the
card alone; building, checking and compiling overlap)."""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor


def _own_gpu(gpus) -> None:
    """A pool worker takes one GPU for all its jobs (before anything touches CUDA)."""
    if gpus is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpus.get())


def job_pool(jobs: int, device: str) -> ProcessPoolExecutor:
    if device != "cuda":
        return ProcessPoolExecutor(jobs)
    import torch
    # spawned, not forked: the caller may have started CUDA, and a job's judge uses its GPU
    context = multiprocessing.get_context("spawn")
    gpus = context.Queue()
    for i in range(jobs):
        gpus.put(i % torch.cuda.device_count())
    return ProcessPoolExecutor(jobs, mp_context=context, initializer=_own_gpu, initargs=(gpus,))
