"""Triplet margin loss (L2 distance, margin given at construction = 1.0), scalar mean, three inputs."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, margin):
        super().__init__()
        self.loss = nn.TripletMarginLoss(margin=margin)

    def forward(self, anchor, positive, negative):
        return self.loss(anchor, positive, negative)


def get_inputs(batch=8192, features=512):
    return [torch.randn(batch, features), torch.randn(batch, features),
            torch.randn(batch, features)]


def get_init_inputs():
    return [1.0]


SHAPES = [(1000, 1001), (37, 129)]  # the last: CPU-sized
