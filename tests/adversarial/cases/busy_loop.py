import torch.nn as nn

PLANTED = {"name": "busy-probe"}  # the test writes in a name to find this process by

with open("/proc/self/comm", "w") as comm:
    comm.write(PLANTED["name"])


class ModelNew(nn.Module):
    """Never returns: keeps a core busy until something kills it."""

    def forward(self, x, y):
        n = 0
        while True:
            n += 1
