"""compute-sanitizer's output, read: each error with the lines under it (kernel and source
line, thread and block, address), and its summary count; which tools a candidate gets."""
from tools.bench import sanitizer_report, sanitizer_tools

MEMCHECK = """========= COMPUTE-SANITIZER
========= Invalid __global__ write of size 4 bytes
=========     at row_scale(const float *, float *, int)+0x1b0 in /sandbox/ext/cuda.cu:9
=========     by thread (255,0,0) in block (3,0,0)
=========     Address 0x7f2a00001000 is out of bounds
=========     and is 1 bytes after the nearest allocation at 0x7f2a00000000 of size 4096 bytes
=========     Saved host backtrace up to driver entry point at kernel launch time
=========         Host Frame: [0x2f1a2] in libcuda.so.1
=========
========= ERROR SUMMARY: 1 error
"""

RACECHECK = """========= COMPUTE-SANITIZER
========= Error: Race reported between Write access at row_sum(float *)+0x90 in race.cu:12
=========     and Read access at row_sum(float *)+0xd0 in race.cu:15 [248 hazards]
=========
========= RACECHECK SUMMARY: 1 hazard displayed (1 error, 0 warnings)
"""

CLEAN = "========= COMPUTE-SANITIZER\n========= ERROR SUMMARY: 0 errors\n"


def test_a_memcheck_error_carries_its_kernel_line_thread_and_address():
    said = sanitizer_report(MEMCHECK, 86, "exit 86")
    assert said["status"] == "errors" and said["error_count"] == 1
    error = said["errors"][0]
    assert error.startswith("Invalid __global__ write of size 4 bytes")
    assert "cuda.cu:9" in error and "thread (255,0,0) in block (3,0,0)" in error
    assert "out of bounds" in error and "Host Frame" not in error


def test_a_race_is_read_from_the_racecheck_summary():
    said = sanitizer_report(RACECHECK, 86, "exit 86")
    assert said["status"] == "errors" and said["error_count"] == 1
    assert "race.cu:12" in said["errors"][0] and "race.cu:15" in said["errors"][0]


def test_clean_and_missing_summaries():
    assert sanitizer_report(CLEAN, 0, "ok") == {"status": "clean", "error_count": 0,
                                                 "errors": []}
    said = sanitizer_report("Segmentation fault", -11, "killed by signal 11")
    assert said["status"] == "not run" and "signal 11" in said["why"]


def test_cuda_candidates_get_race_and_initialisation_checks_too():
    triton = "import triton\n@triton.jit\ndef k(x): pass\n"
    native = "from torch.utils.cpp_extension import load_inline\next = load_inline(name='e')\n"
    assert sanitizer_tools(triton) == ["memcheck"]
    assert sanitizer_tools(native) == ["memcheck", "racecheck", "initcheck"]


def test_a_finding_stands_when_another_tool_did_not_run():
    from tools.bench import combined_sanitizers
    said = {"memcheck": sanitizer_report(MEMCHECK, 86, "exit 86"),
            "racecheck": sanitizer_report("killed", None, "timeout"),
            "initcheck": sanitizer_report(CLEAN, 0, "ok")}
    result = combined_sanitizers("compute-sanitizer memcheck, racecheck, initcheck (GPU)",
                                 "set1", said)
    assert result["status"] == "errors" and result["errors"][0].startswith("memcheck: Invalid")
    assert "racecheck: no sanitizer summary" in result["why"]
    said["memcheck"] = sanitizer_report(CLEAN, 0, "ok")
    assert combined_sanitizers("k", "set1", said)["status"] == "not run"  # not shown clean
    said["racecheck"] = sanitizer_report(CLEAN, 0, "ok")
    assert combined_sanitizers("k", "set1", said)["status"] == "clean"


def test_the_shared_memory_fill_blames_a_read_of_unwritten_shared_memory_only():
    """Right with shared memory zeroed and wrong with NaN bytes: the output depends on what
    shared memory held. Wrong with it zeroed too: a plain wrong kernel, not the fill's to
    judge. Each trial takes its fill word in turn (the candidate's process and the judge
    derive it from the trial's name alike)."""
    from tools.bench import shared_fill_verdict
    from tools.bench.runtime import SharedMemoryFill
    assert [SharedMemoryFill.word_for(f"trial{i}") for i in range(4)] == \
        [0, 0xFFFFFFFF, 0x7F7F7F7F, 0]
    found = shared_fill_verdict("set1", {"trial1": (0xFFFFFFFF, "max abs error nan")}, None,
                                None)
    assert found["status"] == "errors" and "0xFFFFFFFF" in found["errors"][0]
    assert "never wrote" in found["errors"][0] and "set1, trial1" in found["errors"][0]
    plain_wrong = {"trial0": (0, "max abs error 2.0"), "trial1": (0xFFFFFFFF, "nan")}
    assert shared_fill_verdict("set1", plain_wrong, None, None)["status"] == "not run"
    assert shared_fill_verdict("set1", {}, None, None)["status"] == "clean"
    assert shared_fill_verdict("set1", {}, "timeout", None) == {"status": "not run",
                                                                "why": "timeout"}
    no_nvrtc = shared_fill_verdict("set1", {}, None, "AttributeError: _compile_kernel")
    assert no_nvrtc["status"] == "not run" and "_compile_kernel" in no_nvrtc["why"]
