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
