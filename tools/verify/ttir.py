"""Triton IR of one launched kernel, as a tree of ops the symbolic executor walks.

The kernel is compiled to TTIR (Triton's own front end plus its `ttir` pass pipeline: inlining,
canonicalisation, CSE) for an sm_90 target without touching a GPU. The printed IR is then read
line by line: each op keeps its results, operands, attributes text, result types, nested regions
and the source line it came from (resolved through MLIR's location table).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# Triton dtypes of torch tensors and Python scalars, as ASTSource signatures spell them
_TORCH_TO_TRITON = {
    "torch.float32": "fp32", "torch.float16": "fp16", "torch.bfloat16": "bf16",
    "torch.float64": "fp64", "torch.int8": "i8", "torch.int16": "i16", "torch.int32": "i32",
    "torch.int64": "i64", "torch.uint8": "u8", "torch.bool": "i1",
    "torch.float8_e4m3fn": "fp8e4nv", "torch.float8_e5m2": "fp8e5",
}


def triton_type(dtype: str) -> str:
    try:
        return _TORCH_TO_TRITON[dtype]
    except KeyError:
        raise ValueError(f"unsupported tensor dtype {dtype}") from None


@dataclass
class Op:
    name: str
    results: list[str]
    operands: list[str]
    text: str  # the op's text after its name, without location
    types: list["Type"]  # result types
    line: int | None
    regions: list[list["Op"]] = field(default_factory=list)
    region_args: list[list[str]] = field(default_factory=list)

    def attr(self, key: str) -> str | None:
        m = re.search(rf"\b{key}\s*=\s*(-?\w+)", self.text)
        return m.group(1) if m else None


@dataclass
class Type:
    shape: tuple[int, ...]
    elem: str  # i32, i1, f32, ptr<f16>, ...

    @property
    def is_ptr(self) -> bool:
        return self.elem.startswith("ptr")

    @property
    def is_int(self) -> bool:
        return bool(re.fullmatch(r"[iu]\d+|index", self.elem))

    @property
    def is_bool(self) -> bool:
        return self.elem == "i1"


_TYPE_RE = re.compile(r"tensor<((?:\d+x)*)(!tt\.ptr<[^>]+>|[\w]+)>|!tt\.ptr<([^>]+)>|\b([iuf]\d+|bf16|index)\b")


def parse_types(text: str) -> list[Type]:
    types = []
    for m in _TYPE_RE.finditer(text):
        if m.group(2) is not None:
            dims = tuple(int(d) for d in m.group(1).split("x") if d)
            elem = m.group(2)
            if elem.startswith("!tt.ptr<"):
                elem = "ptr<" + elem[len("!tt.ptr<"):-1] + ">"
            types.append(Type(dims, elem))
        elif m.group(3) is not None:
            types.append(Type((), f"ptr<{m.group(3)}>"))
        else:
            types.append(Type((), m.group(4)))
    return types


def _result_types(name: str, rest: str) -> list[Type]:
    """Result types of an op from the type part of its text."""
    if name == "scf.for":
        m = re.search(r"->\s*\((.*?)\)\s*:", rest)
        return parse_types(m.group(1)) if m else []
    if name in ("scf.if", "scf.while"):
        m = re.search(r"->\s*(.*)$", rest.split("{", 1)[0])
        return parse_types(m.group(1)) if m else []
    if " : " not in rest and not rest.startswith(": "):
        return []
    sig = rest.rsplit(" : ", 1)[-1] if " : " in rest else rest[2:]
    if "->" in sig:
        return parse_types(sig.rsplit("->", 1)[1])
    if " to " in sig:
        return parse_types(sig.rsplit(" to ", 1)[1])
    types = parse_types(sig)
    if name == "arith.select":
        return types[-1:]
    if name == "tt.load" and types and types[0].is_ptr:  # the type shown is the pointer's
        return [Type(types[0].shape, types[0].elem[len("ptr<"):-1])]
    if name in ("arith.cmpi", "arith.cmpf") and types:
        return [Type(types[0].shape, "i1")]
    return types[:1]


_LOC_DEF = re.compile(r"^(#loc\d*) = loc\((.*)\)\s*$")
_FILE_LINE = re.compile(r'"([^"]+)":(\d+):(\d+)')
_LOC_REF = re.compile(r"#loc\d*")
_TRAILING_LOC = re.compile(r"\s+loc\((?:[^()]|\([^()]*(?:\([^()]*\))*[^()]*\))*\)\s*$")
_OP_LINE = re.compile(r"^((?:%[-\w#]+(?::\d+)?)(?:\s*,\s*%[-\w#]+)*)\s*=\s*(\"?[\w.]+\"?)(.*)$")
_BARE_OP = re.compile(r"^(\"?[\w.]+\"?)(.*)$")
_VALUE = re.compile(r"%[-\w#]+")


class LocationTable:
    def __init__(self, text: str, source_file: str | None):
        self.defs: dict[str, str] = {}
        for line in text.splitlines():
            m = _LOC_DEF.match(line.strip())
            if m:
                self.defs[m.group(1)] = m.group(2)
        self.source_file = source_file
        self._cache: dict[str, int | None] = {}

    def line_of(self, loc_text: str) -> int | None:
        """The kernel-source line a location points at (the call site for inlined helpers)."""
        found = self._lines(loc_text, depth=0)
        if not found:
            return None
        if self.source_file:
            for file, line in found:
                if file == self.source_file:
                    return line
        return found[-1][1]

    def _lines(self, loc_text: str, depth: int) -> list[tuple[str, int]]:
        if depth > 50:
            return []
        out = [(m.group(1), int(m.group(2))) for m in _FILE_LINE.finditer(loc_text)]
        for ref in _LOC_REF.findall(loc_text):
            if ref in self.defs:
                out += self._lines(self.defs[ref], depth + 1)
        return out


def _split_loc(line: str) -> tuple[str, str | None]:
    m = _TRAILING_LOC.search(line)
    if not m:
        return line, None
    return line[: m.start()], m.group(0).strip()[4:-1]


def _split_results(text: str) -> list[str]:
    out = []
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(%[-\w#]+)(?::(\d+))?", part)
        if m and m.group(2):
            out += [f"{m.group(1)}#{i}" for i in range(int(m.group(2)))]
        elif m:
            out.append(m.group(1))
    return out


def parse_module(text: str, source_file: str | None = None) -> tuple[list[str], list[Op]]:
    """Argument names and body ops of the module's public kernel function."""
    locs = LocationTable(text, source_file)
    lines = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#loc")]
    for i, raw in enumerate(lines):
        if "tt.func public" in raw:
            header, _ = _split_loc(raw.strip())
            args = re.findall(r"(%[-\w#]+)\s*:", header[: header.rfind(")") + 1])
            body, _ = _parse_block(lines, i + 1, locs)
            return args, body
    raise ValueError("no public kernel function in the IR")


def _parse_block(lines: list[str], i: int, locs: LocationTable) -> tuple[list[Op], int]:
    ops: list[Op] = []
    while i < len(lines):
        raw = lines[i].strip()
        if raw.startswith("}"):
            return ops, i
        if raw.startswith("^bb"):
            i += 1
            continue
        text, loc = _split_loc(raw)
        m = _OP_LINE.match(text)
        if m:
            results, name, rest = _split_results(m.group(1)), m.group(2).strip('"'), m.group(3)
        elif (bm := _BARE_OP.match(text)) is not None:
            results, name, rest = [], bm.group(1).strip('"'), bm.group(2)
        else:
            raise ValueError("a line of the kernel's IR this reader does not know: "
                             f"{text[:160]!r}")
        op = Op(name, results, [], rest.strip(), [], locs.line_of(loc) if loc else None)
        opens = text.rstrip().endswith("{")
        i += 1
        if opens:
            while True:
                header_args = re.findall(r"(%[-\w#]+)\s*:", lines[i].strip()) \
                    if lines[i].strip().startswith("^bb") else []
                region, i = _parse_block(lines, i, locs)
                op.regions.append(region)
                op.region_args.append(header_args)
                closing, closing_loc = _split_loc(lines[i].strip())
                i += 1
                if closing.rstrip().endswith("{"):  # "} else {" or "}, {"
                    continue
                if closing_loc and op.line is None:
                    op.line = locs.line_of(closing_loc)
                op.text = (op.text + " " + closing.lstrip("}) ")).strip()
                break
        head = op.text.split("{", 1)[0] if opens else op.text
        if name == "scf.for":
            op.operands = _VALUE.findall(head.split("->", 1)[0])
        else:
            op.operands = _VALUE.findall(head.split(" : ", 1)[0] if " : " in head else head)
        op.types = _result_types(name, op.text if not opens else head + " " + op.text.rsplit("}", 1)[-1])
        ops.append(op)
    return ops, i
