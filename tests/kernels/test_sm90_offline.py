"""benchmarks/sm90_offline.py: a template's kernel compiled for sm_90 on a machine without a GPU."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_moe_routing_compiles_for_sm90_and_is_counted(tmp_path):
    out = tmp_path / "moe.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/sm90_offline.py"), "moe",
                           "--config", '{"BLOCKS": 2}', "--json", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert doc["config"]["BLOCKS"] == 2 and doc["target"] == "cuda sm_90"
    # a routing pass: global loads, exp2 and shuffles, no tensor-core dot
    assert doc["instructions"] > 100 and doc["shuffles"] > 0 and doc["dots"] == 0
    assert doc["by_opcode"].get("ex2", 0) > 0 and "ld" in doc["by_opcode"]


def test_a_configuration_the_template_rejects_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/sm90_offline.py"), "moe",
                           "--config", '{"TOKENS": 48}'], capture_output=True, text=True)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "sm90_offline:" in proc.stderr


def test_attention_compiles_through_tma_descriptors_and_its_register_cap_holds(tmp_path):
    def compiled(config):
        out = tmp_path / "attention.json"
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/sm90_offline.py"),
                               "attention", "--config", json.dumps(config), "--json", str(out)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(out.read_text())
    free = compiled({"num_warps": 8})
    capped = compiled({"num_warps": 8, "MAXNREG": 128})
    # the tensor cores' dots (wgmma) and the cubin's registers, read back from the cubin
    assert free["dots"] >= 2 and free["by_opcode"].get("wgmma", 0) > 0
    assert 128 < free["registers"] <= 255 and capped["registers"] <= 128
    # no per-element division left in the epilogue: one reciprocal a row
    assert free["by_opcode"].get("div", 0) < 8
