"""benchmarks/sm90_offline.py: a catalog problem's template kernels compiled for sm_90 from the
launches its ModelNew makes, on a machine without a GPU."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def compiled(tmp_path, problem: str, config: dict) -> dict:
    out = tmp_path / f"{problem}.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/sm90_offline.py"), problem,
                           "--config", json.dumps(config), "--json", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text())


def test_moe_routing_compiles_for_sm90_and_is_counted(tmp_path):
    doc = compiled(tmp_path, "moe_top2_routing", {"BLOCKS": 2})
    assert doc["config"]["BLOCKS"] == 2 and doc["target"] == "cuda sm_90"
    # the routing pass and the one-program finishing kernel, as ModelNew launches them
    route, finish = doc["kernels"]
    assert route["function"] == "route_top2" and finish["function"] == "balance_stats"
    assert route["options"] == {"num_warps": 4} and finish["options"] == {"num_warps": 1}
    # a routing pass: global loads, exp2 and shuffles, no tensor-core dot
    assert route["instructions"] > 100 and route["shuffles"] > 0 and route["dots"] == 0
    assert route["by_opcode"].get("ex2", 0) > 0 and "ld" in route["by_opcode"]
    assert 0 < route["registers"] <= 255


def test_a_configuration_the_template_rejects_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/sm90_offline.py"),
                           "moe_top2_routing", "--config", '{"TOKENS": 48}'],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "sm90_offline:" in proc.stderr


def test_attention_compiles_through_tma_descriptors_and_its_register_cap_holds(tmp_path):
    [free] = compiled(tmp_path, "gqa_causal_attention", {"num_warps": 8})["kernels"]
    [capped] = compiled(tmp_path, "gqa_causal_attention",
                        {"num_warps": 8, "MAXNREG": 128})["kernels"]
    # the launch's own options: the cap reaches the compiler as Triton's maxnreg
    assert capped["options"] == {"num_warps": 8, "num_stages": 2, "maxnreg": 128}
    # the tensor cores' dots (wgmma) and the cubin's registers, read back from the cubin
    assert free["dots"] >= 2 and free["by_opcode"].get("wgmma", 0) > 0
    assert 128 < free["registers"] <= 255 and capped["registers"] <= 128
    # no per-element division left in the epilogue: one reciprocal a row
    assert free["by_opcode"].get("div", 0) < 8


def test_the_matmul_templates_shared_memory_model_agrees_with_the_compiler(tmp_path):
    # valid() keeps num_stages tiles of x and W plus the output tile the TMA store sends from;
    # a configuration it refuses would not launch on Hopper (227 KiB a program)
    from kernels.templates import matmul
    for stages in (3, 4):
        config = {**matmul.DEFAULT, "num_stages": stages, "PERSISTENT": 0}
        [kernel] = compiled(tmp_path, "matmul_bias_gelu", config)["kernels"]
        assert (kernel["shared_bytes"] <= matmul.SMEM_BYTES) == matmul.valid(config), \
            (stages, kernel["shared_bytes"])
