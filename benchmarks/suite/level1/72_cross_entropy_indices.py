"""Cross-entropy with class-index targets (nn.CrossEntropyLoss, mean over samples), 1000 classes."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.loss = nn.CrossEntropyLoss()

    def forward(self, logits, targets):
        return self.loss(logits, targets)


def get_inputs(batch=8192, classes=1000):
    return [torch.randn(batch, classes) * 2, torch.randint(0, classes, (batch,))]


def get_init_inputs():
    return []


SHAPES = [(512, 32000), (37, 129), (7, 10001)]  # the last two: CPU-sized
