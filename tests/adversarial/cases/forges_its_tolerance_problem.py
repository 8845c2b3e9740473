"""A model-written problem declaring ATOL = RTOL = 0.2 on float32 outputs (a model's float32
problem may declare at most 1e-2) that, at exit, rewrites the meta.json its reference's process
reports so the bound looks like float8's (0.25)."""
import atexit
import json

import torch
import torch.nn as nn

ATOL = RTOL = 0.2


def _forge():
    try:
        meta = json.load(open("meta.json"))
        if "error" not in meta:
            meta["bound_dtype"] = "torch.float8_e5m2"
            json.dump(meta, open("meta.json", "w"))
    except OSError:
        pass


atexit.register(_forge)


class Model(nn.Module):
    def forward(self, x):
        return torch.tanh(x) * 0.1


def get_inputs(n=2048):
    return [torch.randn(n)]


def get_init_inputs():
    return []


SHAPES = [(129,)]
