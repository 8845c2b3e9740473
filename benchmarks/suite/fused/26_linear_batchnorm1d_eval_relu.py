"""Linear (1024 -> 512, no bias) then BatchNorm1d in eval mode (running statistics) then ReLU."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# float32 dot products of 1024 terms: blocking and split-K change the summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.fc = nn.Linear(in_features, out_features, bias=False)
        self.bn = nn.BatchNorm1d(out_features)
        with torch.no_grad():
            self.bn.running_mean.copy_(torch.randn(out_features) * 0.1)
            self.bn.running_var.copy_(torch.rand(out_features) * 0.5 + 0.1)
        self.eval()

    def forward(self, x):
        return torch.relu(self.bn(self.fc(x)))


def get_inputs(batch=8192, in_features=1024):
    return [torch.randn(batch, in_features)]


def get_init_inputs():
    return [1024, 512]


SHAPES = [(1000, 1024), (17, 1024)]  # the last: CPU-sized
