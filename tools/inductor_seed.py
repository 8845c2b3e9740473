"""The compiler seed's generator: torch.compile's (Inductor's) Triton for a problem, as text.

    python -m tools.inductor_seed PROBLEM.py DEVICE OUT.json

Runs in a sandbox (it executes the problem's code). Compiles the problem's Model with dynamic
shapes, convolutions decomposed into matrix products, and matrix products written by Inductor
as its native tl.dot matmul on a GPU, as sums of products on the CPU (so Inductor writes Triton
for them instead of calling a library), and keeps what Inductor wrote without compiling
or running it: the wrapper module's
source (its `call` and the kernels' sources) and, for each of the graph's inputs, where it comes
from (a forward argument, a parameter or buffer, a size of an argument). Everything here that
leans on torch's private internals is in this one module, tested on the pinned torch
(tests/kernels/test_seed.py); the translation into a candidate is `kernels.seed.translate`.

On a machine without a GPU, Inductor's Triton backend for the CPU (`cpu_backend="triton"`)
writes the kernels; Triton has no CPU driver, so the one value it would ask the driver for
(the backend's hash, only a cache key) is given a constant.
"""
from __future__ import annotations

import json
import math
import os
import sys
import traceback
from pathlib import Path


def _mm(a, b):
    # a product summed over k: Inductor writes one Triton reduction for it (with the
    # epilogue fused) where it would hand aten.mm to a library
    return (a.unsqueeze(-1) * b.unsqueeze(-3)).sum(-2)


def _addmm(bias, a, b, beta=1, alpha=1):
    return beta * bias + alpha * _mm(a, b)


def _has_a_unit_size(a, b) -> bool:
    """A product with m, k or n fixed at 1 (a matrix-vector product): Inductor's native tl.dot
    matmul leaves those to cuBLAS."""
    return any(isinstance(s, int) and s <= 1 for s in (a.shape[-2], a.shape[-1], b.shape[-1]))


def _mm_unless_native(a, b):
    return _mm(a, b) if _has_a_unit_size(a, b) else NotImplemented  # NotImplemented: aten.mm


def _addmm_unless_native(bias, a, b, beta=1, alpha=1):
    return _addmm(bias, a, b, beta, alpha) if _has_a_unit_size(a, b) else NotImplemented


def _convolution(x, w, bias, stride, padding, dilation, transposed, output_padding, groups):
    """A convolution as a matrix product: the windows of the padded input (unfold: views) as
    rows, the weight as columns, one product per group. Inductor writes it as its native tl.dot
    matmul on a GPU, as a sum of products (`_mm`) on the CPU."""
    import torch
    dims = w.dim() - 2
    if transposed:  # the input spread out by the stride, then an ordinary convolution
        for i in range(dims):
            axis, size = 2 + i, x.shape[2 + i]
            if stride[i] > 1:  # stride - 1 zeros after each element, none after the last
                zeros = x.new_zeros(*x.shape[:axis + 1], stride[i] - 1, *x.shape[axis + 1:])
                spread = torch.cat([x.unsqueeze(axis + 1), zeros], axis + 1)
                x = spread.flatten(axis, axis + 1).narrow(axis, 0, (size - 1) * stride[i] + 1)
        reach = [dilation[i] * (w.shape[2 + i] - 1) for i in range(dims)]
        x = torch.nn.functional.pad(x, [e for i in reversed(range(dims)) for e in (
            reach[i] - padding[i], reach[i] - padding[i] + output_padding[i])])
        c_in, c_out = w.shape[0], w.shape[1] * groups
        w = w.reshape(groups, c_in // groups, c_out // groups, *w.shape[2:]).transpose(1, 2)
        w = w.reshape(c_out, c_in // groups, *w.shape[3:]).flip(list(range(2, 2 + dims)))
        return _convolution(x, w, bias, [1] * dims, [0] * dims, dilation, False, None, groups)
    x = torch.nn.functional.pad(x, [p for p in reversed(padding) for _ in range(2)])
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    for i in range(dims):
        x = x.unfold(2 + i, (w.shape[2 + i] - 1) * dilation[i] + 1, stride[i])
        if dilation[i] != 1:
            x = x[..., ::dilation[i]]
    spatial = list(x.shape[2:2 + dims])
    window = (c // groups) * math.prod(w.shape[2:])
    # rows: (group, image and output position), columns: (channel of the group, window offset)
    x = x.reshape(n, groups, c // groups, *spatial, *w.shape[2:])
    rows = x.permute(1, 0, *range(3, 3 + dims), 2, *range(3 + dims, 3 + 2 * dims))
    rows = rows.reshape(groups, n * math.prod(spatial), window)
    columns = w.reshape(groups, o // groups, window).transpose(1, 2)
    out = (rows[0] @ columns[0]).unsqueeze(0) if groups == 1 else torch.bmm(rows, columns)
    out = out.reshape(groups, n, *spatial, o // groups)
    out = out.permute(1, 0, 2 + dims, *range(2, 2 + dims)).reshape(n, o, *spatial)
    return out if bias is None else out + bias.reshape(1, o, *([1] * dims))


# the most elements of an example set traced on the CPU where none the interpreter runs will do
SEED_TRACE_MAX_ELEMENTS = 1 << 26


class _Captured(Exception):
    """Inductor wrote its code: stop before it compiles or runs anything."""


def generate(problem_path: str, device: str) -> dict:
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(Path.cwd() / "inductor-cache"))
    import inspect
    from unittest import mock

    import torch
    import torch._inductor.config as inductor_config
    import torch._inductor.ir
    import torch.fx.experimental._config as fx_config
    from torch._inductor.compile_fx import compile_fx
    from torch._inductor.decomposition import select_decomp_table
    from torch._inductor.graph import GraphLowering

    from tools.bench import runtime
    from tools.problem import input_sets, load_problem

    # the problem's code, its model and its inputs: on the card
    with runtime.card_window(device):
        problem = load_problem(problem_path)
        init = list(problem.get_init_inputs())
        dtype = getattr(problem, "DTYPE", None)
        if device == "cpu":
            import torch.utils._triton as torch_triton
            torch_triton.triton_hash_with_backend = lambda: "AUTODOCKET-SEED"
            inductor_config.cpu_backend = "triton"
            if dtype == torch.bfloat16:
                dtype = torch.float32  # as the harness checks it there
        inductor_config.fx_graph_cache = False
        fx_config.use_duck_shape = False  # two equal sizes in the example stay two sizes
        # on a GPU, Inductor's own tl.dot for matrix products where this torch has it (its CPU
        # backend has none: there they become sums of products)
        native_matmul = device != "cpu" and "triton.native_matmul" in inductor_config._config
        if native_matmul:
            inductor_config.triton.native_matmul = True
        torch._dynamo.config.specialize_float = True  # self.eps is a constant, not a 0-d input

        torch.manual_seed(42)
        model = problem.Model(*init).to(device)
        if dtype is not None:
            model = model.to(dtype)
        model = model.eval().requires_grad_(False)

        # the example set: the default on a GPU, on the CPU the largest set the interpreter runs;
        # one with no size of 1 where there is one (torch.compile fixes a size of 1 for good)
        sized, set_shapes = [], {}
        for label, spec in input_sets(problem):
            described = runtime.layout(problem, spec)
            set_shapes[label] = [x.get("shape") for x in described]
            shapes = [x["shape"] for x in described if "shape" in x]
            sized.append((1 in sum(shapes, []), -sum(map(math.prod, shapes)), label, spec))
        if device == "cpu":
            fitting = [s for s in sized if -s[1] <= runtime.CPU_MAX_ELEMENTS]
            if all(s[0] for s in fitting):
                # every set the interpreter runs has a size of 1: trace a larger one (the code
                # is only written here, never run on it)
                fitting += [s for s in sized if not s[0] and -s[1] <= SEED_TRACE_MAX_ELEMENTS]
            if not fitting:
                raise ValueError("every input set is too large for the CPU")
            sized = fitting
        else:
            sized = [(s[0], i, s[2], s[3]) for i, s in enumerate(sized)]  # the default first
        _, _, label, spec = min(sized, key=lambda s: s[:2])
        inputs = runtime.draw(problem, spec, 1000, device, dtype)

    captured: dict = {"graphs": []}

    def keep_code(self):
        generated = self.codegen()  # (wrapper, kernels) in newer torch, the wrapper before
        wrapper = generated[0] if isinstance(generated, tuple) else generated
        captured["graphs"][-1]["code"] = getattr(wrapper, "value", wrapper)
        raise _Captured()

    def backend(gm, example_inputs):
        graph_inputs = []
        for node in gm.graph.nodes:
            if node.op != "placeholder":
                continue
            arg = node.meta.get("grapharg")
            value = node.meta.get("example_value")
            source = getattr(getattr(arg, "source", None), "name", None)
            entry = {"name": node.name,  # a property in newer torch, a method before
                     "source": source() if callable(source) else source}
            if isinstance(value, torch.Tensor):
                entry.update(kind="tensor", shape=[str(s) for s in value.shape],
                             dtype=str(value.dtype))
            else:  # a size, or a number the model holds (self.eps): its value here too
                symbolic = isinstance(value, (torch.SymInt, torch.SymFloat, torch.SymBool))
                hint = value.node.hint if symbolic else value
                entry.update(kind="symint" if isinstance(value, torch.SymInt) else "value",
                             value=hint if isinstance(hint, (int, float, bool)) else str(hint))
            graph_inputs.append(entry)
        # the sizes' symbols and the guards Dynamo and Inductor put on them, read after codegen
        shape_env = torch._guards.TracingContext.try_get().fake_mode.shape_env
        captured["graphs"].append({"inputs": graph_inputs, "shape_env": shape_env})
        aten = torch.ops.aten
        table = {**select_decomp_table(), aten.convolution.default: _convolution}
        if native_matmul:
            table.update({aten.mm.default: _mm_unless_native,
                          aten.bmm.default: _mm_unless_native,
                          aten.addmm.default: _addmm_unless_native})
        else:
            table.update({aten.mm.default: _mm, aten.bmm.default: _mm,
                          aten.addmm.default: _addmm})
        return compile_fx(gm, example_inputs, decompositions=table)

    def one_program_per_scan(cls, *args, **kwargs):
        # a scan split across programs needs a cross-program look-back (atomics, a
        # workspace): one program a row instead
        from torch._inductor.ir import ReductionHint
        return ReductionHint.DEFAULT, 1

    def attempt() -> None:
        torch._dynamo.reset()
        compiled = torch.compile(model, backend=backend, dynamic=True, fullgraph=True)
        with torch.no_grad(), mock.patch.object(GraphLowering, "compile_to_module", keep_code), \
                mock.patch.object(torch._inductor.ir.Scan, "num_splits",
                                  classmethod(one_program_per_scan)):
            try:
                compiled(*inputs)
            except _Captured:
                pass
            except Exception as err:
                if not any(isinstance(e, _Captured) for e in _chain(err)):
                    raise

    try:
        attempt()
    except Exception:
        if "triton.coalesce_tiling_analysis" in inductor_config._config and \
                "tiling_utils" in traceback.format_exc():
            # torch 2.11's tiling analysis asserts on some dynamic-shape reductions (a
            # convolution as a sum of products, on the H200): once more without it
            inductor_config.triton.coalesce_tiling_analysis = False
        elif native_matmul:
            # Inductor's native matmul is new and narrow (it asserts on operand indexing it
            # cannot shape for tl.dot): products as sums of products instead, as on the CPU
            native_matmul = inductor_config.triton.native_matmul = False
        else:
            raise
        captured["graphs"].clear()
        attempt()
    with torch.no_grad(), runtime.card_window(device):
        expected = model(*inputs)
    graphs = [g for g in captured["graphs"] if "code" in g]
    if len(graphs) != 1:
        raise ValueError(f"torch.compile made {len(graphs)} graphs of the model, not one")
    forward_args = [p for p in inspect.signature(problem.Model.forward).parameters
                    if p != "self"]
    shape_env = graphs[0].pop("shape_env")
    return {"device": device, "torch": torch.__version__, "example_set": label,
            "narrower_than_the_sets": _narrower_than_the_sets(
                graphs[0]["inputs"], forward_args, set_shapes, shape_env),
            "native_matmul": native_matmul,
            "forward_args": forward_args,
            "init_args": len(init),
            "output": "tensor" if isinstance(expected, torch.Tensor) else
                      f"tuple:{len(expected)}" if isinstance(expected, tuple) else
                      f"list:{len(expected)}",
            **graphs[0]}


def _narrower_than_the_sets(graph_inputs: list[dict], forward_args: list[str],
                            set_shapes: dict[str, list], shape_env) -> list[str]:
    """Sizes the code Inductor wrote holds fixed that the problem's input sets give others: a
    dimension traced as a number (a size of 1, or one Dynamo fixed) or an equality among the
    guards (`Eq(s53, 17)` where Inductor sized a pooling window by the input). torch.compile
    would compile again for such a set; a written-out seed cannot. The other guards (bounds, a
    layout chosen by the batch size) are left to the harness, which runs the sets: they are
    sufficient for the code to hold, not necessary."""
    import sympy
    symbols, fixed = {}, []  # a size's symbol -> (argument, dimension); sizes traced as numbers
    for entry in graph_inputs:
        source = entry.get("source") or ""
        arg = source[3:-2] if source.startswith("L['") and source.endswith("']") else None
        if entry.get("kind") != "tensor" or arg not in forward_args:
            continue
        for dim, size in enumerate(entry["shape"]):
            if size.isdigit():
                fixed.append((arg, dim, int(size)))
            else:
                symbols.setdefault(size, (arg, dim))
    found = []
    for label, shapes in set_shapes.items():
        def size_of(arg, dim):
            shape = shapes[forward_args.index(arg)] if len(shapes) == len(forward_args) else None
            return shape[dim] if shape is not None and dim < len(shape) else None
        for arg, dim, size in fixed:
            if size_of(arg, dim) not in (None, size):
                found.append(f"dimension {dim} of {arg} is fixed at {size} (input set {label} "
                             f"has {size_of(arg, dim)})")
        for guard in shape_env.guards:
            terms = guard.expr.args if isinstance(guard.expr, sympy.And) else [guard.expr]
            if not all(isinstance(t, sympy.Eq) for t in terms):
                continue
            values = {s: sympy.Integer(size_of(*symbols[s.name])) for s in guard.expr.free_symbols
                      if s.name in symbols and size_of(*symbols[s.name]) is not None}
            if len(values) == len(guard.expr.free_symbols) and \
                    guard.expr.xreplace(values) == sympy.false:
                found.append(f"it assumes {guard.expr} (input set {label} breaks it)")
    return found


def _chain(err: BaseException):
    while err is not None:
        yield err
        err = err.__cause__ or err.__context__


def main() -> None:
    problem, device, out = sys.argv[1], sys.argv[2], sys.argv[3]
    try:
        result = generate(problem, device)
    except Exception as err:
        result = {"error": f"{type(err).__name__}: {str(err)[:600]}",
                  "traceback": traceback.format_exc()[-3000:]}
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
