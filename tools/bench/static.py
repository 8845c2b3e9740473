"""Static checks on a candidate's source: the reward hacks that can be seen without running it.

Each finding has a name; POLICY says whether it rejects the candidate or only flags it for the
reviewers. This table is the one place that policy lives. The C++/CUDA text a candidate builds
with `torch.utils.cpp_extension.load_inline` is checked too (`native_findings`): the same hacks
one language down (cuBLAS, cuDNN or ATen doing the math, streams or threads of its own,
results kept across calls).
"""
from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass

POLICY = {
    "torch-compute": "reject",  # PyTorch does the math in forward (matmul, softmax, F.*, ...)
    "aten-call": "reject",  # torch.ops.aten / torch._C: the same, one level down
    "reference-fallback": "reject",  # inherits Model, calls super().forward or Model(...)
    "try-fallback": "reject",  # try/except that falls back to PyTorch
    "stream-or-thread": "reject",  # work hidden from the timer on another stream or thread
    "monkey-patch": "reject",  # reassigns torch / time / timing functions
    "introspection": "reject",  # gc, inspect, frames: reaching into the harness
    "tensor-subclass": "reject",  # lazy results that compute when the harness reads them
    "pointer-cache": "reject",  # results cached on data_ptr / id: stale across calls
    "downcast": "reject",  # a float32 problem computed in 16 bits: silent precision loss
    "environment": "flag",  # reads environment variables
}

# forward may allocate, reshape and launch; these tensor methods compute instead
COMPUTE_METHODS = {
    "sum", "mean", "softmax", "log_softmax", "matmul", "mm", "bmm", "addmm", "exp", "log",
    "max", "min", "relu", "gelu", "tanh", "sigmoid", "norm", "var", "std", "topk", "sort",
    "cumsum", "cumprod", "argmax", "argmin", "einsum", "conv1d", "conv2d", "layer_norm",
    "silu", "softplus", "pow", "sqrt", "rsqrt", "mul", "add", "sub", "div", "abs", "clamp",
    "where", "masked_fill", "scatter_add", "index_add", "prod", "amax", "amin", "logsumexp",
    "cross_entropy", "scaled_dot_product_attention", "linear", "baddbmm", "dot", "outer",
}
ALLOWED_TORCH = {
    "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full",
    "full_like", "arange", "tensor", "as_strided", "device", "Size", "float32", "float16",
    "bfloat16", "int32", "int64", "int8", "uint8", "bool", "float64", "no_grad", "is_tensor",
    "cuda", "manual_seed", "finfo", "iinfo", "dtype",
}
DOWNCAST_NAMES = {"float16", "half", "bfloat16", "float8_e4m3fn", "float8_e5m2"}
IMPORT_FLAGS = {"threading": "stream-or-thread", "multiprocessing": "stream-or-thread",
                "concurrent": "stream-or-thread", "gc": "introspection",
                "inspect": "introspection", "ctypes": "introspection"}


@dataclass
class Finding:
    name: str
    line: int
    text: str
    action: str

    def to_dict(self) -> dict:
        return asdict(self)


def dotted_name(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _is_triton_jit(fn: ast.FunctionDef) -> bool:
    names = [dotted_name(d.func if isinstance(d, ast.Call) else d) for d in fn.decorator_list]
    return any(word in name for name in names for word in ("jit", "autotune", "heuristics"))


class _Checker(ast.NodeVisitor):
    def __init__(self, source_lines: list[str], problem_is_fp32: bool):
        self.lines = source_lines
        self.fp32 = problem_is_fp32
        self.findings: list[Finding] = []
        self.in_kernel = False
        self.in_forward_path = False  # inside a function other than __init__ (set-up may compute)
        self.extensions: set[str] = set()  # names bound to a load_inline module (its own code)

    @property
    def computes(self) -> bool:
        """Where PyTorch math would stand in for the kernel: forward and its helpers."""
        return self.in_forward_path and not self.in_kernel

    def add(self, name: str, node: ast.AST, why: str) -> None:
        line = getattr(node, "lineno", 0)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.findings.append(Finding(name, line, f"{why}: {code}"[:200], POLICY[name]))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        was = self.in_kernel, self.in_forward_path
        self.in_kernel = self.in_kernel or _is_triton_jit(node)
        self.in_forward_path = node.name != "__init__"
        self.generic_visit(node)
        self.in_kernel, self.in_forward_path = was

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            name = dotted_name(base)
            if name == "Model" or name.endswith(".Model"):
                self.add("reference-fallback", node, "inherits the reference Model")
            if name in ("torch.Tensor", "Tensor"):
                self.add("tensor-subclass", node, "subclasses torch.Tensor")
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__torch_function__":
                self.add("tensor-subclass", item, "defines __torch_function__")
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            root = alias.name.split(".")[0]
            if root in IMPORT_FLAGS:
                self.add(IMPORT_FLAGS[root], node, f"imports {alias.name}")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        root = (node.module or "").split(".")[0]
        if root in IMPORT_FLAGS:
            self.add(IMPORT_FLAGS[root], node, f"imports from {node.module}")
        if (node.module or "").startswith("torch.nn.functional") or node.module == "torch.ops":
            self.add("torch-compute", node, f"imports from {node.module}")
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        if self.computes and node.handlers:
            self.add("try-fallback", node, "try/except around the computation")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.MatMult) and self.computes:
            self.add("torch-compute", node, "matrix product with @ outside a kernel")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Call) and dotted_name(node.value.func).split(".")[-1] in \
                ("load_inline", "load"):
            self.extensions |= {dotted_name(t).split(".")[-1] for t in node.targets}
        for target in node.targets:
            name = dotted_name(target) if isinstance(target, ast.Attribute) else ""
            if name.split(".")[0] in ("torch", "time", "triton", "tl") and "." in name:
                self.add("monkey-patch", node, f"reassigns {name}")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in ("f_back", "f_locals", "f_globals", "_getframe", "__globals__"):
            self.add("introspection", node, f"uses .{node.attr}")
        if node.attr == "environ" and dotted_name(node.value) == "os":
            self.add("environment", node, "reads os.environ")
        if self.fp32 and node.attr in DOWNCAST_NAMES:
            self.add("downcast", node, f"uses {node.attr} in a float32 problem")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and any(m in node.value for m in NATIVE_MARKERS):
            self.findings += native_findings(node.value, node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        name = dotted_name(node.func)
        parts = name.split(".")
        if not self.in_kernel:
            if name in ("super.forward",) or (isinstance(node.func, ast.Attribute) and
                                             node.func.attr == "forward" and
                                             isinstance(node.func.value, ast.Call) and
                                             dotted_name(node.func.value.func) == "super"):
                self.add("reference-fallback", node, "calls super().forward")
            if name == "Model" or name.endswith(".Model"):
                self.add("reference-fallback", node, "builds the reference Model")
            if "aten" in parts or name.startswith("torch._C") or name.startswith("torch.ops"):
                self.add("aten-call", node, f"calls {name}")
            elif not self.computes:
                pass
            elif parts[0] in ("F",) or name.startswith("torch.nn.functional"):
                self.add("torch-compute", node, f"calls {name}")
            elif parts[0] == "torch" and len(parts) == 2 and parts[1] not in ALLOWED_TORCH:
                self.add("torch-compute", node, f"calls {name}")
            elif name.startswith(("torch.linalg", "torch.fft", "torch.special")):
                self.add("torch-compute", node, f"calls {name}")
            elif isinstance(node.func, ast.Attribute) and node.func.attr in COMPUTE_METHODS \
                    and parts[0] not in ("tl", "triton", "math", "np", "numpy", "self") \
                    and (len(parts) < 2 or parts[-2] not in self.extensions):
                self.add("torch-compute", node, f"tensor method .{node.func.attr}()")
            if "Stream" in parts[-1] or name in ("torch.cuda.stream", "torch.cuda.set_stream"):
                self.add("stream-or-thread", node, f"creates or switches streams: {name}")
            if parts[-1] in ("Thread", "Process", "ThreadPoolExecutor", "ProcessPoolExecutor"):
                self.add("stream-or-thread", node, f"starts {parts[-1]}")
            if name in ("setattr",) and node.args and dotted_name(node.args[0]).split(".")[0] in \
                    ("torch", "time", "triton"):
                self.add("monkey-patch", node, "setattr on a library module")
            if name in ("globals", "locals", "vars", "sys._getframe", "inspect.currentframe",
                        "inspect.stack", "gc.get_objects", "gc.get_referrers"):
                self.add("introspection", node, f"calls {name}")
            if parts[-1] == "data_ptr" or name == "id":
                self.add("pointer-cache", node, f"uses {name or 'data_ptr'}() (caching on "
                         "addresses?)")
            if parts[-1] in ("lru_cache", "cache") and parts[0] == "functools":
                self.add("pointer-cache", node, "memoises results")
            if parts[-1] in ("half", "bfloat16") and self.fp32:
                self.add("downcast", node, f".{parts[-1]}() in a float32 problem")
            if name in ("os.getenv",):
                self.add("environment", node, "reads the environment")
        self.generic_visit(node)


# C++/CUDA text: what marks a string as extension source, and what it may take from ATen (types,
# allocation, the current stream and device guard); any other at::/torch:: call computes
NATIVE_MARKERS = ("__global__", "#include", "torch::Tensor", "at::Tensor", "PYBIND11_MODULE")
ATEN_ALLOWED = {
    "Tensor", "TensorOptions", "empty", "empty_like", "empty_strided", "zeros", "zeros_like",
    "ones", "ones_like", "full", "Scalar", "ScalarType", "Device", "DeviceType", "IntArrayRef",
    "Half", "BFloat16", "MemoryFormat", "Layout", "dtype", "device", "cuda", "kStrided",
    "kCUDA", "kCPU", "kFloat", "kFloat32", "kHalf", "kBFloat16", "kDouble", "kInt", "kInt8",
    "kInt16", "kInt32", "kInt64", "kLong", "kByte", "kChar", "kBool", "kUInt8", "Generator",
    "TensorAccessor", "PackedTensorAccessor32", "PackedTensorAccessor64", "RestrictPtrTraits",
    "DefaultPtrTraits",
}
ATEN_CUDA_ALLOWED = {"getCurrentCUDAStream", "CUDAGuard", "OptionalCUDAGuard",
                     "getCurrentDeviceProperties", "CUDAStream"}
_NATIVE_RULES = [
    ("aten-call", re.compile(r"\b(cublas\w*|cublasLt\w*|cudnn\w*)"), "calls a vendor library"),
    ("aten-call", re.compile(r"#\s*include\s*[<\"](cublas|cudnn|ATen/ops|ATen/native)[^>\"]*"),
     "includes a vendor library or ATen's operators"),
    ("stream-or-thread", re.compile(r"\b(cudaStreamCreate\w*|getStreamFromPool|cudaLaunchHostFunc"
                                    r"|std::thread|std::async|pthread_create)\b"),
     "work outside the caller's stream"),
    ("pointer-cache", re.compile(r"\bstatic\s+(const\s+)?std::(unordered_)?(map|set)\b|"
                                 r"\bstatic\b[^;]*\bdata_ptr\b"),
     "keeps host-side state across calls"),
]
_ATEN_NAME = re.compile(r"\b(?:at|torch)::((?:\w+::)*)(\w+)\s*(\(|<)")
_TENSOR_METHOD = re.compile(r"\.\s*(\w+)\s*\(")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


def builds_extension(source: str) -> bool:
    """Whether a candidate builds C++/CUDA of its own (torch.utils.cpp_extension)."""
    return "cpp_extension" in source and ("load_inline" in source or "load(" in source)


def native_findings(text: str, first_line: int) -> list[Finding]:
    """Findings in one string of C++/CUDA extension source that starts on `first_line`."""
    # comments become blanks of the same length, so offsets still give line numbers
    code = _COMMENTS.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    found: list[Finding] = []

    def add(name: str, offset: int, why: str) -> None:
        line_in = code.count("\n", 0, offset)
        snippet = text.splitlines()[line_in].strip() if text.splitlines() else ""
        found.append(Finding(name, first_line + line_in, f"{why} in the extension: {snippet}"[:200],
                             POLICY[name]))

    for name, pattern, why in _NATIVE_RULES:
        for m in pattern.finditer(code):
            add(name, m.start(), f"{why} ({m.group(0).strip()})")
    for m in _ATEN_NAME.finditer(code):
        namespaces, fn = m.group(1), m.group(2)
        allowed = fn in ATEN_CUDA_ALLOWED if namespaces.startswith("cuda::") else \
            not namespaces and fn in ATEN_ALLOWED
        if not allowed:
            add("aten-call", m.start(), f"calls ATen ({m.group(0).rstrip('(<').strip()})")
    for m in _TENSOR_METHOD.finditer(code):
        if m.group(1) in COMPUTE_METHODS:
            add("aten-call", m.start(), f"tensor method .{m.group(1)}()")
    return found


def check_source(source: str, problem_is_fp32: bool = True) -> list[Finding]:
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        return [Finding("torch-compute", err.lineno or 0, f"syntax error: {err.msg}", "reject")]
    checker = _Checker(source.splitlines(), problem_is_fp32)
    checker.visit(tree)
    unique = {(f.name, f.line): f for f in checker.findings}
    return sorted(unique.values(), key=lambda f: (f.line, f.name))


def rejections(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.action == "reject"]
