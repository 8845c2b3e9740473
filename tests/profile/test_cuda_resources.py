"""A C++/CUDA candidate's kernels in the profile: registers, spills and static shared memory
read from the library its extension built (`cuobjdump --dump-resource-usage`, the numbers
`nvcc -Xptxas -v` prints). No nvcc or GPU here: cuobjdump's output is given as text."""
import types

from tools.bench import runtime
from tools.profile import ProfileReport, worker
from tools.profile.diagnose import diagnose

# the layout cuobjdump prints for a library holding code for two architectures
TWO_ARCHES = """
Fatbin elf code:
================
arch = sm_80
code version = [1,8]
host = linux
compile_size = 64bit

Resource usage:
 Common:
  GLOBAL:0
 Function _Z12softmax_lastPKfPfll:
  REG:40 STACK:0 SHARED:128 LOCAL:0 CONSTANT[0]:552 TEXTURE:0 SURFACE:0 SAMPLER:0

Fatbin elf code:
================
arch = sm_90
code version = [1,8]
host = linux
compile_size = 64bit

Resource usage:
 Common:
  GLOBAL:0
 Function _Z12softmax_lastPKfPfll:
  REG:38 STACK:16 SHARED:128 LOCAL:8 CONSTANT[0]:552 TEXTURE:0 SURFACE:0 SAMPLER:0
 Function _Z4tailPf:
  REG:12 STACK:0 SHARED:0 LOCAL:0 CONSTANT[0]:360 TEXTURE:0 SURFACE:0 SAMPLER:0
"""


def test_each_kernel_of_the_cards_architecture_is_read():
    usage = worker.parse_resource_usage(TWO_ARCHES, 90)
    assert usage == {
        "_Z12softmax_lastPKfPfll": {"registers": 38, "local_bytes": 24, "shared_bytes": 128},
        "_Z4tailPf": {"registers": 12, "local_bytes": 0, "shared_bytes": 0}}
    # another card: its own architecture's numbers, else the first listed
    assert worker.parse_resource_usage(TWO_ARCHES, 80)["_Z12softmax_lastPKfPfll"][
        "registers"] == 40
    assert worker.parse_resource_usage(TWO_ARCHES, 100)["_Z12softmax_lastPKfPfll"][
        "registers"] == 40
    assert worker.parse_resource_usage("cuobjdump: no fatbin", 90) == {}


def test_a_built_extensions_kernels_join_the_profile_and_its_spills_are_diagnosed(
        monkeypatch, tmp_path):
    library = tmp_path / "autodocket_softmax.so"
    library.write_bytes(b"\x7fELF")
    module = types.ModuleType("autodocket_softmax")
    module.__file__ = str(library)
    monkeypatch.setattr(runtime, "EXTENSIONS", [module])
    monkeypatch.setattr(worker, "_dump_resource_usage", lambda path: TWO_ARCHES)
    kernels = worker.extension_kernels(90)
    assert [k["metadata"]["registers"] for k in kernels] == [38, 12]
    assert all(k["programs"] is None and k["metadata"]["language"] == "cuda" for k in kernels)

    notes = diagnose(None, kernels, None, 132)
    assert len(notes) == 1 and "register spills in" in notes[0] and "24 bytes" in notes[0]
    report = ProfileReport("profiled", {"name": "NVIDIA H200"}, kernels=kernels,
                           diagnosis=notes)
    assert "38 registers, 24 B spilled, 128 B shared" in report.feedback()


def test_an_extension_without_a_readable_library_says_so(monkeypatch):
    module = types.ModuleType("autodocket_gone")
    monkeypatch.setattr(runtime, "EXTENSIONS", [module])
    kernels = worker.extension_kernels(90)
    assert len(kernels) == 1 and "registers and spills unknown" in kernels[0]["metadata"][
        "missing"]
