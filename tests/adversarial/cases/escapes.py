import os
import socket
import subprocess
import time

import torch
import torch.nn as nn
import triton
import triton.language as tl

PLANTED = {"writes": [], "name": "escape-probe", "daemon": "987654"}  # filled in by the test


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask),
             mask=mask)


def escape() -> list[str]:
    """Write outside the scratch folder (the test looks for the files), reach the database,
    leave processes behind (the test looks for them by name). Returns the connections that
    worked."""
    with open("/proc/self/comm", "w") as comm:  # children inherit the name
        comm.write(PLANTED["name"])
    for path in PLANTED["writes"]:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as handle:
                handle.write("#!/bin/sh\necho pwned\n")
        except OSError:
            pass
    worked = []
    for family, address in ((socket.AF_UNIX, "/run/postgresql/.s.PGSQL.5432"),
                            (socket.AF_UNIX, "/var/run/postgresql/.s.PGSQL.5432"),
                            (socket.AF_INET, ("127.0.0.1", 5432)),
                            (socket.AF_INET, ("127.0.0.1", 6379))):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect(address)
                worked.append(f"connected to {address}")
        except OSError:
            pass
    for _ in range(64):  # children that would outlive the run
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
    subprocess.Popen(["sleep", PLANTED["daemon"]], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return worked


WORKED = escape()


class ModelNew(nn.Module):
    """An honest kernel that fails loudly if it got out of its sandbox."""

    def forward(self, x, y):
        if WORKED:
            raise RuntimeError(f"escaped: {WORKED}")
        out = torch.empty_like(x)
        add_kernel[(triton.cdiv(x.numel(), 256),)](x, y, out, x.numel(), BLOCK=256)
        return out
