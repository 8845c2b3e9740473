"""The candidate's Triton kernels, rebuilt from its source without running the rest of it.

The verifier's analysis runs where the candidate never ran: it cannot import the candidate's
file (module-level code could patch the analysis). Instead it reads the file's syntax tree and
keeps only what a kernel needs, each piece checked before anything is executed:

- imports of Triton, `math` and Inductor's runtime helpers (trusted modules), nothing else;
- constants: `NAME = <literal>` and `NAME = tl.constexpr(<literal>)`;
- top-level functions decorated with `triton.jit` (other decorators, such as autotune and
  heuristics, are dropped: the recorded launch carries the configuration it used), whose
  defaults are literals and whose annotations are plain names;
- inside those bodies, a global name must be one of the above, another kernel, or a harmless
  builtin, and an attribute chain on a module must end at something Triton's language offers
  (a builtin, a kernel, a dtype, a `triton.language` function or module, `math`); no name or
  attribute starts with an underscore pair.

Triton's compiler then sees the same function bodies (it reads them from the file) with only
those globals. Anything outside these rules makes the kernel `unsupported`, with the reason.
"""
from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

TRUSTED_MODULES = ("triton", "math", "torch._inductor.runtime")
HARMLESS_BUILTINS = {"range", "min", "max", "len", "int", "float", "bool", "abs", "zip",
                     "enumerate", "isinstance", "tuple", "list", "print", "round", "divmod",
                     "True", "False", "None"}
JIT_DECORATORS = {"jit", "triton.jit", "tl.jit", "triton.language.jit"}


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _trusted(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in TRUSTED_MODULES)


def _is_jit(decorator: ast.AST) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return _dotted(target) in JIT_DECORATORS


def allowed_object(obj) -> bool:
    """What a kernel body may reach through a module attribute chain."""
    from triton.language import core
    from triton.runtime.jit import JITFunction
    if isinstance(obj, types.ModuleType):
        return obj.__name__.startswith("triton.language") or obj.__name__ == "math" or \
            obj.__name__.startswith("torch._inductor.runtime.triton_helpers")
    if isinstance(obj, (JITFunction, core.dtype, core.constexpr)) or core.is_builtin(obj):
        return True
    if type(obj).__name__ == "ConstexprFunction":  # triton.cdiv and friends (Triton >= 3.4)
        return True
    module = getattr(obj, "__module__", None) or ""
    if callable(obj) and (module.startswith("triton.language") or module == "math"):
        return True
    return isinstance(obj, (int, float)) and module == ""  # math.pi and the like


class _BodyCheck(ast.NodeVisitor):
    def __init__(self, fn: ast.FunctionDef, namespace: dict, kernels: set[str]):
        self.fn, self.ns, self.kernels, self.problems = fn, namespace, kernels, []
        args = fn.args
        self.local = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        self.local |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)
                       and isinstance(n.ctx, ast.Store)}

    def fail(self, node: ast.AST, why: str) -> None:
        self.problems.append(f"{self.fn.name}, line {getattr(node, 'lineno', '?')}: {why}")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__"):
            self.fail(node, f"uses {node.id}")
        elif isinstance(node.ctx, ast.Load) and node.id not in self.local and \
                node.id not in self.ns and node.id not in HARMLESS_BUILTINS:
            self.fail(node, f"reads global {node.id!r}, which is not a Triton module, a "
                      "constant or another kernel of this file")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("__"):
            self.fail(node, f"uses .{node.attr}")
            return
        chain = _dotted(node)
        root = chain.split(".")[0] if chain else None
        if root is not None and root not in self.local and \
                isinstance(self.ns.get(root), types.ModuleType):
            obj = self.ns[root]
            for part in chain.split(".")[1:]:
                obj = getattr(obj, part, None)
                if obj is None:
                    self.fail(node, f"{chain} does not exist")
                    return
            if not allowed_object(obj):
                self.fail(node, f"{chain} is not part of Triton's kernel language")
            return  # the chain was resolved whole
        if root in self.kernels and root not in self.local:
            self.fail(node, f"reaches into kernel {root} ({chain})")
            return
        self.generic_visit(node)

    def visit_Import(self, node) -> None:
        self.fail(node, "imports inside a kernel")

    visit_ImportFrom = visit_Import

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.fail(node, "defines a lambda")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node is not self.fn:
            self.fail(node, "defines a nested function")
            return
        for stmt in node.body:  # decorators, defaults and annotations are checked apart
            self.visit(stmt)

    def visit_Global(self, node) -> None:
        self.fail(node, "declares a global")

    visit_Nonlocal = visit_Global


def _constant(node: ast.AST, tl_names: set[str]):
    """A module-level constant's value, or raise ValueError."""
    if isinstance(node, ast.Call) and _dotted(node.func) in {f"{n}.constexpr" for n in tl_names} \
            and len(node.args) == 1 and not node.keywords:
        from triton.language import constexpr
        return constexpr(ast.literal_eval(node.args[0]))
    return ast.literal_eval(node)


def load_kernels(path: str | Path) -> tuple[dict, list[str]]:
    """({kernel name: JITFunction}, problems) for the file's checked kernels. A kernel whose
    body breaks a rule is left out and its problems listed."""
    path = Path(path).resolve()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    namespace: dict = {"__name__": "autodocket_kernels", "__builtins__": __builtins__}
    problems: list[str] = []
    for node in tree.body:  # imports first: constants and kernels refer to them
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _trusted(alias.name):
                    module = importlib.import_module(alias.name)
                    if alias.asname:
                        namespace[alias.asname] = module
                    else:
                        root = alias.name.split(".")[0]
                        namespace[root] = importlib.import_module(root)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                _trusted(node.module):
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if value is None:
                    try:
                        value = importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        continue
                if allowed_object(value):
                    namespace[alias.asname or alias.name] = value
    tl_names = {k for k, v in namespace.items() if isinstance(v, types.ModuleType)
                and v.__name__ in ("triton.language", "triton")}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            try:
                namespace[targets[0].id] = _constant(node.value, tl_names)
            except (ValueError, SyntaxError, TypeError):
                pass  # not a constant: a kernel that reads it is unsupported
    kernels = [n for n in tree.body if isinstance(n, ast.FunctionDef)
               and any(_is_jit(d) for d in n.decorator_list)]
    for fn in kernels:
        namespace[fn.name] = None  # kernels may call each other
    keep = []
    for fn in kernels:
        check = _BodyCheck(fn, namespace, {k.name for k in kernels})
        check.visit(fn)
        args = fn.args
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                try:
                    ast.literal_eval(default)
                except ValueError:
                    check.fail(default, "has a default that is not a literal")
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if arg.annotation is not None and not (
                    _dotted(arg.annotation) or isinstance(arg.annotation, ast.Constant)):
                check.fail(arg, f"annotates {arg.arg} with an expression")
        jit = [d for d in fn.decorator_list if _is_jit(d)][:1]
        if isinstance(jit[0], ast.Call) and any(not _literal(k.value) for k in jit[0].keywords):
            check.fail(fn, "passes a non-literal argument to triton.jit")
        problems += check.problems
        if not check.problems:
            keep.append(ast.FunctionDef(fn.name, fn.args, fn.body, jit, fn.returns,
                                        getattr(fn, "type_comment", None),
                                        **({"type_params": []} if hasattr(fn, "type_params")
                                           else {}), lineno=fn.lineno,
                                        col_offset=fn.col_offset, end_lineno=fn.end_lineno,
                                        end_col_offset=fn.end_col_offset))
    for fn in kernels:
        namespace.pop(fn.name, None)
    module = ast.Module(keep, type_ignores=[])
    exec(compile(ast.fix_missing_locations(module), str(path), "exec"), namespace)
    return {fn.name: namespace[fn.name] for fn in keep}, problems


def top_level_lines(path: str | Path) -> dict[str, int]:
    """Each top-level function's first line as Python records it (its first decorator's)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    return {n.name: min([n.lineno] + [d.lineno for d in n.decorator_list])
            for n in tree.body if isinstance(n, ast.FunctionDef)}


def _literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except ValueError:
        return False
