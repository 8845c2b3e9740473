"""The ghost run reaches a C++/CUDA candidate's extension functions: with them made no-ops its
output must be poison, and writes into its arguments undone. Built without a compiler: the
extension here is a plain module standing in for what load_inline returns."""
import types

import torch
from torch.utils import cpp_extension

from tools.bench import runtime


def _fake_extension():
    module = types.ModuleType("autodocket_fake_ext")
    module.double = lambda x: x * 2
    module.double_into = lambda x, out: out.copy_(x * 2)
    module.pair = lambda x: (x + 1, (x > 0).to(torch.int32))
    return module


def test_a_watched_extension_computes_nothing_in_the_ghost_run(monkeypatch):
    monkeypatch.setattr(runtime, "EXTENSIONS", [])
    monkeypatch.setattr(cpp_extension, "load_inline", lambda **k: _fake_extension())
    runtime.watch_extensions()
    ext = cpp_extension.load_inline(name="fake", cpp_sources="", functions=["double"])
    x, out = torch.ones(4), torch.zeros(4)

    with runtime.GhostKernels():
        assert torch.isnan(ext.double(x)).all()
        ext.double_into(x, out)
        assert torch.equal(out, torch.zeros(4))  # its write into an argument undone
        first, second = ext.pair(x)
        assert torch.isnan(first).all()
        assert second.dtype == torch.int32 and (second == -7777).all()  # the sentinel

    assert torch.equal(ext.double(x), torch.full((4,), 2.0))  # the real function is back
    ext.double_into(x, out)
    assert torch.equal(out, torch.full((4,), 2.0))


def test_an_unwatched_module_is_left_alone(monkeypatch):
    monkeypatch.setattr(runtime, "EXTENSIONS", [])
    ext = _fake_extension()
    with runtime.GhostKernels():
        assert torch.equal(ext.double(torch.ones(2)), torch.full((2,), 2.0))
