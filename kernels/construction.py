"""A template's ModelNew built the way the problem builds its Model: the problem's own
constructor (its signature and body, so that every parameter and buffer has the reference's
name and shape and the harness can hand them over), and a forward that launches the template's
kernel on the arguments the problem's forward passes to the operation, read from its code.

    own = construction(problem_source)
    own.operation()   # ("layer_norm", {"input": "x", "normalized_shape": "self.shape", ...})
    own.model_new("return layer_norm(x, self.shape, self.weight, self.bias, self.eps)")

Only a forward that returns one call of a known operation is read; anything else is None, and
the template keeps its own ModelNew (which the screen then checks against the problem).
"""
from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from tools.bench.static import dotted_name

# operation -> (the names its call spells, its parameters in order, the defaults of the rest)
OPERATIONS = {
    "layer_norm": ({"F.layer_norm", "torch.nn.functional.layer_norm", "torch.layer_norm"},
                   ("input", "normalized_shape", "weight", "bias", "eps"),
                   {"weight": "None", "bias": "None", "eps": "1e-05"}),
    "gelu": ({"F.gelu", "torch.nn.functional.gelu"}, ("input", "approximate"),
             {"approximate": "'none'"}),
    "silu": ({"F.silu", "torch.nn.functional.silu"}, ("input",), {}),
}
# a module attribute built in __init__ whose call is the operation: what its arguments are then
MODULES = {"LayerNorm": ("layer_norm", {"normalized_shape": "{m}.normalized_shape",
                                        "weight": "{m}.weight", "bias": "{m}.bias",
                                        "eps": "{m}.eps"}),
           "GELU": ("gelu", {"approximate": "{m}.approximate"}),
           "SiLU": ("silu", {})}


@dataclass
class Construction:
    source: str
    init: ast.FunctionDef | None
    forward: ast.FunctionDef

    def operation(self) -> tuple[str, dict[str, str]] | None:
        """The operation forward returns and its arguments as source text, or None."""
        body = [s for s in self.forward.body if not (isinstance(s, ast.Expr) and
                                                     isinstance(s.value, ast.Constant))]
        if len(body) != 1 or not isinstance(body[0], ast.Return) or \
                not isinstance(body[0].value, ast.Call):
            return None
        call = body[0].value
        name = dotted_name(call.func)
        text = lambda node: ast.get_source_segment(self.source, node)  # noqa: E731
        for op, (spellings, params, defaults) in OPERATIONS.items():
            if name in spellings:
                args = dict(defaults)
                args.update(zip(params, map(text, call.args)))
                args.update({k.arg: text(k.value) for k in call.keywords if k.arg})
                return (op, args) if set(args) == set(params) else None
        module = self._module_built_as(name)
        if module in MODULES and len(call.args) == 1 and not call.keywords:
            op, args = MODULES[module]
            return op, {"input": text(call.args[0]),
                        **{k: v.format(m=name) for k, v in args.items()}}
        return None

    def _module_built_as(self, attribute: str) -> str | None:
        """The nn class `self.<name> = nn.<Class>(...)` builds in __init__, if any."""
        for node in ast.walk(self.init) if self.init else []:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                    dotted_name(node.targets[0]) == attribute and isinstance(node.value, ast.Call):
                return dotted_name(node.value.func).split(".")[-1]
        return None

    def model_new(self, forward_body: str) -> str:
        """class ModelNew: the problem's __init__ as written, this forward."""
        init = textwrap.indent(textwrap.dedent(ast.get_source_segment(
            self.source, self.init, padded=True)), "    ") if self.init else ""
        params = ast.unparse(self.forward.args)
        return (f"class ModelNew(nn.Module):\n{init}{chr(10) * 2 if init else ''}"
                f"    def forward({params}):\n        {forward_body}\n")


def construction(source: str) -> Construction | None:
    """The problem's Model, read (never run): its __init__ and forward, or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    model = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model"),
                 None)
    methods = {n.name: n for n in (model.body if model else [])
               if isinstance(n, ast.FunctionDef)}
    if "forward" not in methods:
        return None
    return Construction(source, methods.get("__init__"), methods["forward"])
