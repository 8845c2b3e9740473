"""Record every Triton launch a candidate's `forward` makes, without running a kernel.

`JITFunction.run` (and the autotuner, which launches each of its configs) is replaced by a
recorder: grid, arguments and constexprs become concrete, tensors are described by dtype,
shape, strides and storage extent. The kernel is then compiled to TTIR on the CPU.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import torch
from triton.runtime.autotuner import Autotuner
from triton.runtime.jit import JITFunction
from triton.tools.tensor_descriptor import TensorDescriptor

LAUNCH_OPTIONS = {"num_warps", "num_stages", "num_ctas", "maxnreg", "enable_fp_fusion",
                  "launch_cooperative_grid", "launch_pdl", "stream", "warmup", "grid",
                  "enable_warp_specialization", "debug", "sanitize_overflow"}
COMPILE_OPTIONS = {"num_warps", "num_stages", "num_ctas", "maxnreg"}


@dataclass
class TensorArg:
    dtype: str
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    extent: int  # elements reachable from data_ptr: 1 + sum((size-1)*stride), 0 if empty
    data_ptr: int
    is_output: bool = False

    def describe(self) -> str:
        return f"{self.dtype.replace('torch.', '')}{list(self.shape)}"


@dataclass
class Launch:
    fn: JITFunction
    grid: tuple[int, int, int]
    params: list[tuple[str, object]]  # (name, value) for every parameter, in order
    constexpr_names: set[str]
    config: str = ""
    tensors: dict[str, TensorArg] = field(default_factory=dict)
    options: dict = field(default_factory=dict)  # num_warps, num_stages, ... as launched

    @property
    def name(self) -> str:
        return self.fn.fn.__name__

    def runtime_args(self) -> list[tuple[str, object]]:
        return [(n, v) for n, v in self.params if n not in self.constexpr_names and v is not None]


def describe_tensor(t: torch.Tensor) -> TensorArg:
    extent = 0 if t.numel() == 0 else 1 + sum((s - 1) * st for s, st in zip(t.shape, t.stride()))
    return TensorArg(str(t.dtype), tuple(t.shape), tuple(t.stride()), extent, t.data_ptr())


def _constexpr_names(fn) -> set[str]:
    if hasattr(fn, "params"):  # a JITFunction
        return {p.name for p in fn.params if p.is_constexpr}
    # the CPU interpreter's InterpretedFunction: the annotations, read as Triton reads them
    return {n for n, a in inspect.get_annotations(fn.fn).items() if "constexpr" in str(a)}


def _record(launches: list[Launch], fn: JITFunction, args, kwargs, config: str = "") -> None:
    grid = kwargs.pop("grid", None)
    call_kwargs = {k: v for k, v in kwargs.items() if k not in LAUNCH_OPTIONS}
    sig = inspect.signature(fn.fn)
    bound = sig.bind(*args, **call_kwargs)
    bound.apply_defaults()
    params = list(bound.arguments.items())
    if callable(grid):
        grid = grid(dict(params))
    grid = tuple(int(g) for g in grid) + (1,) * (3 - len(grid))
    launch = Launch(fn, grid, params, _constexpr_names(fn), config,
                    options={k: v for k, v in kwargs.items() if k in COMPILE_OPTIONS})
    for name, value in params:
        if isinstance(value, torch.Tensor):
            launch.tensors[name] = describe_tensor(value)
        elif isinstance(value, TensorDescriptor):  # its accesses land in its tensor
            launch.tensors[name] = describe_tensor(value.base)
    launches.append(launch)


class LaunchRecorder:
    """Context manager: inside it, Triton launches are recorded instead of run."""

    def __init__(self):
        self.launches: list[Launch] = []

    def __enter__(self):
        self._jit_run, self._tuner_run = JITFunction.run, Autotuner.run
        launches = self.launches

        def jit_run(fn, *args, **kwargs):
            _record(launches, fn, args, dict(kwargs))

        def tuner_run(tuner, *args, **kwargs):
            for i, cfg in enumerate(tuner.configs):
                merged = dict(kwargs)
                merged.update(cfg.all_kwargs())
                inner = tuner.fn
                kernels = tuple(filter(None, (JITFunction, _interpreted_function())))
                while not isinstance(inner, kernels):  # heuristics wrappers
                    inner = inner.fn
                _record(launches, inner, args, merged, config=f"config {i}: {cfg}")

        JITFunction.run = jit_run
        Autotuner.run = tuner_run
        self._interpreted = _interpreted_function()
        if self._interpreted is not None:  # under TRITON_INTERPRET=1 kernels are these
            self._interp_run = self._interpreted.run
            self._interpreted.run = jit_run
        return self

    def __exit__(self, *exc):
        JITFunction.run, Autotuner.run = self._jit_run, self._tuner_run
        if self._interpreted is not None:
            self._interpreted.run = self._interp_run
        return False


def _interpreted_function():
    try:
        from triton.runtime.interpreter import InterpretedFunction
        return InterpretedFunction
    except ImportError:
        return None


def mark_outputs(launches: list[Launch], outputs) -> list[int]:
    """Flag tensor arguments that share storage with what `forward` returned; returns the
    positions of returned tensors no launch was given (PyTorch, or a cache, made them: no
    proof about the kernels covers them)."""
    flat = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    ptrs = {t.data_ptr() for t in flat if isinstance(t, torch.Tensor) and t.numel()}
    for launch in launches:
        for arg in launch.tensors.values():
            arg.is_output = arg.data_ptr in ptrs
    given = {arg.data_ptr for launch in launches for arg in launch.tensors.values()}
    return [i for i, t in enumerate(flat) if isinstance(t, torch.Tensor) and t.numel()
            and t.data_ptr() not in given]


# compiling ---------------------------------------------------------------------------------
def _signature(launch: Launch) -> tuple[dict, dict]:
    from .ttir import triton_type
    signature, constexprs = {}, {}
    for name, value in launch.params:
        if name in launch.constexpr_names or value is None:
            signature[name] = "constexpr"
            constexprs[name] = value.value if hasattr(value, "value") else value
        elif isinstance(value, torch.Tensor):
            signature[name] = "*" + triton_type(str(value.dtype))
        elif isinstance(value, bool):
            signature[name] = "i1"
        elif isinstance(value, int):
            signature[name] = "i32" if -2**31 <= value < 2**31 else "i64"
        elif isinstance(value, float):
            signature[name] = "fp32"
        elif isinstance(value, TensorDescriptor):  # TMA: tensordesc<bf16[128, 64]>
            from triton.runtime.jit import mangle_type
            signature[name] = mangle_type(value)
        else:
            raise TypeError(f"argument {name} of {launch.name}: {type(value).__name__} "
                            "is not a tensor or scalar")
    return signature, constexprs


def _specialised(launch: Launch, signature: dict, constexprs: dict) -> dict:
    """As Triton's launcher specialises a launch on a GPU: an integer equal to 1 becomes a
    constant, and pointers 16-byte aligned and integers divisible by 16 are marked so (the
    attributes Triton compiles with). Changes `signature` and `constexprs`; the attributes."""
    attrs = {}
    for i, (name, value) in enumerate(launch.params):
        if signature[name] == "constexpr" or isinstance(value, bool):
            continue
        if isinstance(value, int) and value == 1:
            signature[name], constexprs[name] = "constexpr", 1
        elif isinstance(value, int) and value % 16 == 0 or \
                isinstance(value, torch.Tensor) and value.data_ptr() % 16 == 0:
            attrs[(i,)] = [["tt.divisibility", 16]]
    return attrs


def ast_source(launch: Launch, specialise: bool = False):
    """The launch as Triton's compiler input (signature and constexprs made concrete); with
    `specialise`, specialised on its values as a GPU launch is (what the card would run)."""
    from triton.compiler import ASTSource
    signature, constexprs = _signature(launch)
    attrs = _specialised(launch, signature, constexprs) if specialise else {}
    try:
        return ASTSource(launch.fn, signature, constexprs, attrs)
    except Exception:  # older Triton keys constexprs by argument index
        names = [n for n, _ in launch.params]
        return ASTSource(launch.fn, signature,
                         {(names.index(k),): v for k, v in constexprs.items()})


def compile_ttir(launch: Launch) -> str:
    """TTIR text (with locations) of the launched kernel, for an sm_90 target, on the CPU."""
    from triton._C.libtriton import ir
    from triton.backends import backends
    from triton.backends.compiler import GPUTarget

    target = GPUTarget("cuda", 90, 32)
    backend = backends["nvidia"].compiler(target)
    options = backend.parse_options({})
    src = ast_source(launch)
    context = ir.context()
    ir.load_dialects(context)
    backend.load_dialects(context)
    make_ir = inspect.signature(src.make_ir).parameters
    codegen = backend.get_codegen_implementation(options)
    module_map = backend.get_module_map() if hasattr(backend, "get_module_map") else {}
    if "target" in make_ir:
        module = src.make_ir(target, options, codegen, module_map, context)
    else:
        module = src.make_ir(options, codegen, module_map, context)
    capability = 90
    module = backend.make_ttir(module, {}, options, capability)
    return str(module)
