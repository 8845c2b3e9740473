"""Templates built as the problem builds its Model (kernels.construction): the operation its
forward returns is read with the arguments its own call names, and the rendered candidate then
reproduces problems the catalog's fixed ModelNew did not (here a residual add before the norm).
The whole suite's count: benchmarks/template_fit.py."""
from pathlib import Path

import pytest

from agents.coder import does_not_reproduce
from kernels.construction import construction
from kernels.library import offerings

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "suite"

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"


def _op(model: str):
    return construction(HEAD + model).operation()


def test_the_operation_and_its_arguments_are_read_from_the_problems_code():
    assert _op("class Model(nn.Module):\n    def forward(self, x):\n"
               "        return F.layer_norm(x, x.shape[-1:], eps=1e-6)\n") == \
        ("layer_norm", {"input": "x", "normalized_shape": "x.shape[-1:]", "weight": "None",
                        "bias": "None", "eps": "1e-6"})
    assert _op("class Model(nn.Module):\n    def __init__(self, d):\n        super().__init__()\n"
               "        self.ln = nn.LayerNorm([d, d])\n    def forward(self, x):\n"
               "        return self.ln(x)\n")[1]["weight"] == "self.ln.weight"
    assert _op("class Model(nn.Module):\n    def forward(self, x):\n"
               "        return F.gelu(x, approximate='tanh')\n") == \
        ("gelu", {"input": "x", "approximate": "'tanh'"})


@pytest.mark.parametrize("forward", [
    "y = x * 2\n        return F.layer_norm(y, y.shape[-1:])",  # two statements
    "return F.layer_norm(x, x.shape[-1:]) * 2",  # an epilogue after it
    "return F.gelu(x, approximate='tanh', inplace=True)",  # an argument it does not take
])
def test_anything_else_is_not_read(forward):
    assert _op(f"class Model(nn.Module):\n    def forward(self, x):\n        {forward}\n") is None


def test_the_rendered_template_reproduces_the_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    problem = SUITE / "fused" / "11_residual_add_layernorm.py"  # its constructor, a fused add
    offer = next(iter(offerings(problem, "cpu", 1, origins=("template",))))
    assert does_not_reproduce(problem, offer, "cpu") is None
