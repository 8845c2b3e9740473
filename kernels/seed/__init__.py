"""The compiler seed: torch.compile's (Inductor's) Triton for a problem, written out as a
standalone candidate that the harness and the verifier judge like any other.

    seed = compiler_seed("problem.py", device="cpu")
    seed.source   # the candidate file's text, or None
    seed.reason   # why there is none: what Inductor did that is not a kernel of ours

Inductor runs in a sandbox (`tools.inductor_seed`: it executes the problem's code); what it
wrote is translated here (`kernels.seed.translate`), parsed, never run. Its text is cached by
the problem's content, the device, the torch version and the generator's own source.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from tools.cache import cache_path, write_atomic

from .translate import CPU_TUNING, GPU_TUNINGS, NotCovered, Tuning, candidate_source


@dataclass
class Seed:
    source: str | None = None
    reason: str | None = None
    kernels: list[str] = field(default_factory=list)


def generate(problem: Path, device: str, timeout: float = 600) -> dict:
    """Inductor's output for the problem, from a sandbox (cached)."""
    from importlib.metadata import version

    from tools.sandbox import SERIAL_INDUCTOR, Sandbox
    import tools.inductor_seed as generator
    key = hashlib.sha256(b"\0".join([problem.read_bytes(), device.encode(),
                                      version("torch").encode(),
                                      Path(generator.__file__).read_bytes()])).hexdigest()
    cached = cache_path("seed", f"{key}.json")
    if cached.is_file():
        return json.loads(cached.read_text())
    from tools.bench import serve_card
    box = Sandbox(timeout=timeout, memory_gb=16, gpu=device == "cuda", env=SERIAL_INDUCTOR)
    try:
        # the card only while the problem's model and inputs are made and run: Inductor
        # writes code on the CPU and stops before compiling or running it
        running = box.start(["-m", "tools.inductor_seed", box.lend(problem, "problem.py"),
                             device, f"{box.inside_scratch}/seed.json"], interactive=True)
        serve_card(running, device)
        run = running.wait()
        try:
            generated = json.loads((box.scratch / "seed.json").read_text())
        except (OSError, ValueError):
            generated = {"error": "the generator ended without a result: " + run.reason()}
    finally:
        box.close()
    if "error" not in generated:
        write_atomic(cached, json.dumps(generated))
    return generated


def compiler_seed(problem: str | Path, device: str = "cpu", tuning: Tuning | None = None,
                  written_for: str | None = None) -> Seed:
    """`written_for="cuda"` on a CPU: the GPU form of the CPU's Inductor code (libdevice calls
    kept, not rewritten for the interpreter), which the verifier reads without a GPU."""
    problem = Path(problem).resolve()
    generated = generate(problem, device)
    if "error" in generated:
        return Seed(reason=f"torch.compile could not compile the problem: {generated['error']}")
    if written_for:
        generated = dict(generated, device=written_for)
    try:
        source, kernels = candidate_source(generated, tuning)
    except NotCovered as err:
        return Seed(reason=f"not covered: {err}")
    except (SyntaxError, KeyError, ValueError, AttributeError, IndexError) as err:
        return Seed(reason=f"the compiler's output could not be read: {type(err).__name__}: "
                    f"{err}")
    if not kernels:
        return Seed(reason="not covered: torch.compile wrote no Triton kernel for it")
    return Seed(source, kernels=kernels)


__all__ = ["CPU_TUNING", "GPU_TUNINGS", "Seed", "Tuning", "compiler_seed", "generate"]
