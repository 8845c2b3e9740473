"""Every CUDA template's device code, in every configuration the search can offer, compiled
for the H100/H200 (sm_90) with NVRTC on this CPU (no GPU, no nvcc here): it compiles, and
ptxas spills no registers. What runs it on a GPU is tests/kernels/test_cuda_gpu.py. NVRTC comes
from the `nvidia-cuda-nvrtc-cu12` wheel (the dev extras); CI sets AUTODOCKET_REQUIRE_NVRTC=1,
so there the test fails rather than skips when it is missing."""
import ctypes
import os
import re
from pathlib import Path

import pytest

from kernels.library import CATALOG, configs, match, render

HOST = "// ---- host code (torch's API); everything above is device code ----"
# what torch's headers give the device code in the real build
PRELUDE = ("typedef long long int64_t;\ntypedef signed char int8_t;\n"
           "typedef unsigned long long uintptr_t;\n#define INFINITY __int_as_float(0x7f800000)\n")
PROBLEMS = ["softmax", "log_softmax", "bias_gelu", "swiglu", "kv_quant_int8"]


def _nvrtc():
    try:
        import nvidia.cuda_nvrtc
        lib = next(Path(p) / "lib" for p in nvidia.cuda_nvrtc.__path__)
        return ctypes.CDLL(str(next(lib.glob("libnvrtc.so.*"))))
    except (ImportError, StopIteration, OSError) as err:
        if os.environ.get("AUTODOCKET_REQUIRE_NVRTC"):
            raise RuntimeError(f"NVRTC is required here and missing: {err}") from err
        pytest.skip(f"NVRTC not installed ({err}): pip install -e .[dev]")


def compile_sm90(source: str) -> tuple[int, str]:
    """NVRTC's result code and log (ptxas's report included) for `source`."""
    lib = _nvrtc()
    program = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(program), source.encode(), b"kernel.cu", 0,
                                  None, None) == 0
    try:
        options = [b"--gpu-architecture=sm_90", b"--ptxas-options=-v", b"--std=c++17"]
        code = lib.nvrtcCompileProgram(program, len(options),
                                       (ctypes.c_char_p * len(options))(*options))
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(program, log)
        return code, log.value.decode(errors="replace")
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))


def device_code(kernel_file: str) -> str:
    cuda = re.search(r'CUDA = r"""(.*?)"""', kernel_file, re.S).group(1)
    assert HOST in cuda, "the template marks where its host code starts"
    device = cuda.split(HOST)[0]
    return PRELUDE + "\n".join(line for line in device.splitlines()
                               if not line.startswith("#include"))


@pytest.mark.parametrize("problem", PROBLEMS)
def test_every_configuration_compiles_for_sm90_without_spills(problem):
    found = match(CATALOG / f"{problem}.py", "cuda")
    assert found is not None and found.template.LANGUAGE == "cuda"
    grid = configs(found.template, budget=1000)
    assert len(grid) > 1
    for config in grid:
        code, log = compile_sm90(device_code(render(found, config)))
        assert code == 0, f"{config}: {log[-2000:]}"
        entries = re.findall(r"Compiling entry function '(\w+)'", log)
        spills = re.findall(r"(\d+) bytes spill stores", log)
        assert entries and len(spills) == len(entries), log
        assert all(s == "0" for s in spills), f"{config} spills: {log}"


def test_a_compile_error_is_reported_with_its_line():
    code, log = compile_sm90(PRELUDE + "__global__ void k(float* x) { x[0] = undefined; }\n")
    assert code != 0 and "undefined" in log and "kernel.cu(5)" in log
