"""What a docket task asks for, read from its words: the operation and its variant, the sizes,
the dtype and the success criterion, each with the words it came from.

    spec = read_spec(title, text)
    spec.kind        # "kernel" | "non-kernel"
    spec.op          # "softmax", "bias_gelu", "attention", ... or None
    spec.variants    # {"gelu": "exact"}, {"causal": True}, {"bits": 4}, ...
    spec.sizes       # {"cols": 3000, "width": 4099, "vocab": 50257, ...}
    spec.shapes      # [(4096, 1000), (8192, 8192)]: sizes written as A x B
    spec.dtype       # "bfloat16" | "float16" | "float32" | "float8" | None (not named)
    spec.language    # "cuda" when the text asks for CUDA C++, else "triton"
    spec.words       # {"dtype": "bf16", "cols": "3000 columns", ...}: where each came from

Nothing here decides which problem is measured: `kernels.families` does, and refuses what its
family cannot express. The same reader checks a model planner's problem against the text.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

_N = r"(\d[\d,_]*(?:\.\d+)?(?:[kKmM](?![A-Za-z]))?)"  # 4096, 50,257, 8k, 1.5k (not "3001 matrix")


def number(text: str) -> int:
    """4096, 50,257, 8k (8192), 32K (32768), 1M (1048576)."""
    text = text.strip().replace(",", "").replace("_", "").replace(" ", "")
    scale = {"k": 1024, "m": 1024 * 1024}.get(text[-1].lower(), 1)
    value = float(text[:-1] if scale > 1 else text)
    return int(round(value * scale))


# (operation, pattern): the most specific first; a task names one operation
OPERATIONS = [
    ("attention", r"\battention\b|\bsdpa\b|flash[- ]?attn|\bflashattention"),
    ("cross_entropy", r"cross[- ]?entropy"),
    ("moe_routing", r"\bmoe\b|mixture[- ]of[- ]experts|\bexpert routing|\brouter\b|top-?\d+ routing"),
    ("kv_quant", r"quanti[sz]\w*|\bint[348]\b|\b[348]-bit\b"),
    ("logsumexp", r"log[- ]?sum[- ]?exp"),
    ("log_softmax", r"log[- ]?softmax"),
    ("softmax", r"\bsoftmax\b"),
    ("layernorm", r"layer[- ]?norm(?:ali[sz]ation)?\b"),
    ("rmsnorm", r"\brms[- ]?norm(?:ali[sz]ation)?\b"),
    ("matmul", r"\bmatmul\b|\bgemm\b|matrix[- ]multipl\w*|\blinear layer\b|\bprojection\b|"
               r"\bmatrix product\b|\bf\.linear\b"),
    ("swiglu", r"\bswiglu\b|\bswish[- ]?glu\b|\bsilu\(a\) ?\* ?b\b"),
    ("gelu", r"\bgelu\b"),
    ("silu", r"\bsilu\b|\bswish\b"),
    ("relu", r"\brelu\b"),
    ("scan", r"\bcumsum\b|prefix[- ]sums?\b|\binclusive scan\b|\bscan\b|cumulative sum"),
    ("argmax", r"\bargmax\b|\barg[- ]max\b"),
    ("row_max", r"\brow[- ]?(?:wise )?max(?:ima|imum|imums)?\b|\bamax\b|"
                r"\bmax(?:imum)? (?:of|over) (?:each|every) row\b|\breduce[- ]max\b"),
    ("row_sum", r"\brow[- ]?(?:wise )?sums?\b|\bsum (?:of|over) (?:each|every) row\b|"
                r"\breduce[- ]sum\b"),
    # kernel work with no family here: named so that it is parked, not sent to a human
    ("convolution", r"\bconv(?:olution)?(?:[123]d)?\b"),
    ("pooling", r"\b(?:max|avg|average)[- ]?pool\w*"),
    ("top_k", r"\btop[- ]?k\b"),
    ("sort", r"\bsort(?:ing)?\b"),
    ("transpose", r"\btranspos\w+"),
    ("rope", r"\brope\b|rotary (?:position|embedding)"),
    ("dropout", r"\bdropout\b"),
    ("embedding", r"\bembedding (?:lookup|gather|bag)\b"),
]
KERNEL_WORDS = re.compile(r"\b(kernels?|triton|cuda|ptx|fused|fuse|fusion|gemm|tensor cores?|"
                          r"warp|shared memory|tma|wgmma|hbm|bandwidth[- ]bound)\b", re.IGNORECASE)
DTYPES = [("bfloat16", r"\bbf16\b|\bbfloat16\b|\bbrain[- ]?float"),
          ("float16", r"\bfp16\b|\bfloat16\b|\bhalf[- ]precision\b"),
          ("float8", r"\bfp8\b|\bfloat8\w*|\be4m3\b|\be5m2\b"),
          ("float32", r"\bfp32\b|\bfloat32\b|\bsingle[- ]precision\b")]
# named sizes: (size class, pattern with the number as group 1)
SIZES = [
    ("vocab", rf"\bvocab(?:ulary)?(?:[- ]size)?(?: of)?\s*[=:]?\s*{_N}"),
    ("vocab", rf"{_N}[- ](?:word|token|entry)[- ]vocab(?:ulary)?"),
    ("seq", rf"\bseq(?:uence)?(?:[- ](?:length|len))?(?: of)?\s*[=:]?\s*{_N}"),
    ("seq", rf"{_N}[- ](?:token[- ])?(?:context|sequences?)\b"),
    ("head_dim", rf"\bhead[- _]?dim(?:ension)?(?: of)?\s*[=:]?\s*{_N}"),
    ("q_heads", rf"{_N}\s*(?:query|q)[- ]heads?"),
    ("kv_heads", rf"{_N}\s*(?:kv|key[- /]value|k/v)[- ]heads?"),
    ("heads", rf"{_N}\s*heads?\b"),
    ("experts", rf"{_N}\s*experts?\b"),
    ("experts", rf"\bexperts?\s*[=:]\s*{_N}"),
    ("group", rf"\bgroups? of\s*{_N}|\bgroup[- ]size(?: of)?\s*[=:]?\s*{_N}|{_N}[- ]value groups?"),
    ("width", rf"\bhidden(?:[- ]size| dim(?:ension)?| state)?(?: of)?\s*[=:]?\s*{_N}"),
    ("width", rf"\b(?:width|d_model|model dim(?:ension)?)(?: of)?\s*[=:]?\s*{_N}"),
    ("width", rf"{_N}[- ]wide\b"),
    ("width", rf"{_N}[- ]dim(?:ensional)?\b(?! heads)"),
    ("cols", rf"{_N}\s*(?:columns|cols)\b"),
    ("cols", rf"\b(?:columns|cols)\s*[=:]\s*{_N}"),
    ("rows", rf"{_N}\s*rows\b"),
    ("rows", rf"\brows\s*[=:]\s*{_N}"),
    ("tokens", rf"{_N}\s*tokens\b"),
    ("tokens", rf"\btokens\s*[=:]\s*{_N}"),
    ("batch", rf"\bbatch(?:[- ]size)?(?: of)?\s*[=:]?\s*{_N}"),
]
# a task that asks for the kernel in CUDA C++ (not one that merely runs "on CUDA")
CUDA_LANGUAGE = re.compile(r"\bcuda[- ]?c\+\+|\bcuda (?:c\b|kernels?\b|source|code\b|extension)|"
                           r"\b(?:in|with|using) (?:raw |native |hand-written )?cuda\b(?! graphs?)|"
                           r"\bcustom cuda\b|\bhand-written cuda\b|\bload_inline\b|\.cu\b",
                           re.IGNORECASE)
SHAPE = re.compile(rf"{_N}\s*[x×]\s*{_N}(?:\s*[x×]\s*{_N})?(?:\s*[x×]\s*{_N})?")
CUBE = re.compile(rf"{_N}\s*(?:\^3|³)")


@dataclass
class Spec:
    kind: str = "non-kernel"  # "kernel" | "non-kernel"
    op: str | None = None
    variants: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    shapes: list = field(default_factory=list)
    dtype: str | None = None
    language: str = "triton"  # what the kernel is to be written in: "triton" | "cuda"
    criterion: str = ""  # the words that state the success criterion, if any
    words: dict = field(default_factory=dict)  # each parameter -> the words it came from

    def to_dict(self) -> dict:
        out = asdict(self)
        out["shapes"] = [list(s) for s in self.shapes]
        return out

    def describe(self) -> str:
        """One line for the report and `prs`: what the text asked for, in its own words."""
        parts = [f"{k} = {v} ('{self.words.get(k, '?')}')" for k, v in self.variants.items()]
        parts += [f"{k} = {v} ('{self.words.get(k, '?')}')" for k, v in self.sizes.items()]
        if self.shapes:
            parts.append(f"shapes {', '.join('x'.join(map(str, s)) for s in self.shapes)} "
                         f"('{self.words.get('shapes', '?')}')")
        if self.dtype:
            parts.append(f"dtype = {self.dtype} ('{self.words.get('dtype', '?')}')")
        if self.language != "triton":
            parts.append(f"language = {self.language} ('{self.words.get('language', '?')}')")
        return f"{self.op}: " + ("; ".join(parts) or "no sizes or dtype named")


def _first(pattern: str, text: str):
    return re.search(pattern, text, re.IGNORECASE)


def read_spec(title: str, text: str, criterion: str | None = None) -> Spec:
    words = " ".join(filter(None, [title, text]))
    spec = Spec(criterion=criterion or criterion_phrase(words))
    for op, pattern in OPERATIONS:
        found = _first(pattern, words)
        if found:
            spec.op, spec.kind = op, "kernel"
            spec.words["op"] = found.group(0)
            break
    if spec.op is None and KERNEL_WORDS.search(words):
        spec.kind = "kernel"
    if found := CUDA_LANGUAGE.search(words):
        spec.language, spec.words["language"] = "cuda", found.group(0)
    for dtype, pattern in DTYPES:
        found = _first(pattern, words)
        if found:
            spec.dtype, spec.words["dtype"] = dtype, found.group(0)
            break
    _variants(spec, words)
    taken: list[tuple[int, int]] = []  # spans already read, so that one number is read once
    for found in SHAPE.finditer(words):
        spec.shapes.append(tuple(number(g) for g in found.groups() if g))
        taken.append(found.span())
    for found in CUBE.finditer(words):
        spec.shapes.append((number(found.group(1)),) * 3)
        taken.append(found.span())
    if spec.shapes:
        spec.words["shapes"] = "; ".join(words[a:b] for a, b in taken)
    for name, pattern in SIZES:
        for found in re.finditer(pattern, words, re.IGNORECASE):
            span = found.span()
            if name in spec.sizes or any(a < span[1] and span[0] < b for a, b in taken):
                continue
            value = next(g for g in found.groups() if g)
            spec.sizes[name], spec.words[name] = number(value), found.group(0).strip()
            taken.append(span)
            break
    return spec


def _variants(spec: Spec, words: str) -> None:
    def note(name, value, found):
        spec.variants[name] = value
        spec.words[name] = found.group(0) if hasattr(found, "group") else found

    if spec.op in ("gelu", "matmul") or _first(r"\bgelu\b", words):
        for value, patterns in (("tanh", (r"\btanh[- ](?:approx\w*[- ])?gelu\b",
                                          r"approximate\s*=\s*['\"]tanh['\"]",
                                          r"\bgelu\b[^.;:]{0,30}\btanh\b")),
                                ("exact", (r"\bexact[- ](?:erf[- ])?gelu\b", r"\berf[- ]gelu\b",
                                           r"\bgelu\b[^.;:]{0,30}\b(?:exact|erf)\b", r"\berf\b"))):
            found = next((f for p in patterns if (f := _first(p, words))), None)
            if found:
                note("gelu", value, found)
                break
    if spec.op == "gelu" and (found := _first(r"\bbias\b", words)):
        note("bias", True, found)
    if spec.op == "matmul":
        for act, pattern in (("gelu", r"\bgelu\b"), ("silu", r"\bsilu\b|\bswish\b"),
                             ("relu", r"\brelu\b")):
            if found := _first(pattern, words):
                note("activation", act, found)
                break
        if found := _first(r"\bno bias\b|\bwithout (?:a )?bias\b|bias\s*=\s*none", words):
            note("bias", False, found)
        elif found := _first(r"\bbias\b", words):
            note("bias", True, found)
    if spec.op in ("rmsnorm", "layernorm"):
        if found := _first(r"\bno residual\b|\bwithout (?:a )?residual\b", words):
            note("residual", False, found)
        elif found := _first(r"\bresidual\b|\bskip connection\b", words):
            note("residual", True, found)
    if spec.op == "layernorm":
        if found := _first(r"\bno affine\b|\bwithout (?:the )?affine\b|\bnon-affine\b|"
                           r"elementwise_affine\s*=\s*false", words):
            note("affine", False, found)
    if spec.op == "attention":
        if found := _first(r"\bnon-?causal\b|\bbidirectional\b|\bfull attention\b|"
                           r"\bencoder\b", words):
            note("causal", False, found)
        elif found := _first(r"\bcausal\b|\bdecoder\b|\bautoregressive\b", words):
            note("causal", True, found)
        if found := _first(r"\bmulti-?query\b|\bmqa\b", words):
            note("kv_heads_rule", "one KV head (multi-query)", found)
        elif found := _first(r"\bgrouped[- ]query\b|\bgqa\b", words):
            note("grouped", True, found)
    if spec.op == "kv_quant":
        if found := _first(r"\bint([348])\b|\b([348])-bit\b", words):
            note("bits", int(next(g for g in found.groups() if g)), found)
    if spec.op == "moe_routing" and (found := _first(r"\btop-?(\d+)\b", words)):
        note("top_k", int(found.group(1)), found)


# criteria -----------------------------------------------------------------------------------
CRITERION_PHRASES = re.compile(
    r"(?:beats?|faster than|outperforms?)\s+(?:torch\.?compile|eager|pytorch|sdpa|cublas)\w*|"
    r"(?:≥|>=|>|at least)\s*\d+(?:\.\d+)?\s*[x×][^.;,)]*|"
    r"\d+(?:\.\d+)?\s*[x×]\s*(?:faster|speed-?up)[^.;,)]*|"
    r"(?:≥|>=|at least)?\s*\d+(?:\.\d+)?\s*%\s*of\s*(?:the\s*)?(?:peak\s*|copy\s*|memory\s*|hbm\s*)?"
    r"(?:bandwidth|roofline)|"
    r"(?:<|≤|<=|under|below|within)\s*\d+(?:\.\d+)?\s*(?:ms|us|µs)\b|"
    r"(?:≥|>=|at least)\s*\d+(?:\.\d+)?\s*tflop/?s|"
    r"load[- ]balance[^.;]*|std\s*(?:≤|<=|<)\s*\d+(?:\.\d+)?\s*%",
    re.IGNORECASE)


def criterion_phrase(words: str) -> str:
    """The task's own success criterion, as written (the phrases, joined), or ""."""
    return "; ".join(m.group(0).strip() for m in CRITERION_PHRASES.finditer(words))
