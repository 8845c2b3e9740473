"""The show / next / audit commands, as a user runs them."""
import json
import os
import subprocess
import sys

from conftest import FIXTURES


def cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "agents.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **(env or {})})


def test_show_json_on_lab_a():
    result = cli("show", "--docket", str(FIXTURES / "docket-lucca-lab-a.md"), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)  # stdout is exactly one JSON document
    pending = [t for t in doc["tasks"] if t["section"] == "Pending Tasks"]
    assert len(pending) == 10 and sum(t["checked"] for t in pending) == 9
    assert [t["title"] for t in pending if not t["checked"]] == ["Quantized-Logic Reasoning Benchmarks"]
    assert sum(t["section"] == "Completed Tasks" for t in doc["tasks"]) == 69
    assert {t["status"] for t in doc["tasks"]} == {"checked", "open"}  # nothing has evidence
    for field in ("id", "title", "description", "checked", "date", "section", "line",
                  "end_line", "sub_items", "kind", "duplicate_of"):
        assert field in doc["tasks"][0]


def test_show_table_is_readable():
    result = cli("show", "--docket", str(FIXTURES / "docket-lucca-lab-b.md"), env={"COLUMNS": "200"})
    assert result.returncode == 0
    assert "hardware-aware-neural-symbolic-synthesis-for-sm-120-v2" in result.stdout
    assert "duplicate:" in result.stdout


def test_next_on_both_dockets():
    a = cli("next", "--docket", str(FIXTURES / "docket-lucca-lab-a.md"), "--json")
    assert json.loads(a.stdout)["title"] == "Quantized-Logic Reasoning Benchmarks"
    b = cli("next", "--docket", str(FIXTURES / "docket-lucca-lab-b.md"))
    assert b.returncode == 0
    assert "Hardware-Aware Neural-Symbolic Synthesis for sm_120 (v2)" in b.stdout


def test_next_skips_tasks_autodocket_holds(seed_copy):
    path = seed_copy("docket-lucca-lab-b.md")
    (path.parent / ".git").mkdir()  # the lab root: .autodocket/ goes here
    from agents.config import find_lab
    from memory.db import make_engine
    from memory.state import StateStore
    lab = find_lab(path)
    store = StateStore(make_engine(lab.database_url), lab.docket_key)
    store.set("hardware-aware-neural-symbolic-synthesis-for-sm-120-v2", "awaiting-review")
    result = cli("next", "--docket", str(path), "--json")
    assert json.loads(result.stdout)["id"] == (
        "latent-space-diffusion-steering-for-temporal-video-consistency-v2")
    store.set("latent-space-diffusion-steering-for-temporal-video-consistency-v2", "parked",
              "not a kernel task")
    result = cli("next", "--docket", str(path), "--json")
    assert result.returncode == 1 and json.loads(result.stdout) is None
    shown = json.loads(cli("show", "--docket", str(path), "--json").stdout)
    statuses = {t["id"]: t["status"] for t in shown["tasks"]}
    assert statuses["hardware-aware-neural-symbolic-synthesis-for-sm-120-v2"] == "awaiting-review"
    store.clear("latent-space-diffusion-steering-for-temporal-video-consistency-v2")
    assert cli("next", "--docket", str(path)).returncode == 0


def test_audit_flags_simulated_claims_in_lab_b():
    result = cli("audit", "--docket", str(FIXTURES / "docket-lucca-lab-b.md"), "--json")
    assert result.returncode == 1  # claims without evidence: the check failed
    doc = json.loads(result.stdout)
    by_id = {e["task_id"]: e for e in doc["entries"]}
    jit = by_id["self-correcting-cuda-jit-compiler-for-sm-120"]
    assert [c["text"] for c in jit["claims"]] == ["1.47x", "66.3%"]
    assert not any(c["backed"] for c in jit["claims"])
    assert "simulated" in jit["hedges"]
    assert "checked without an evidence record" in jit["findings"]
    flagged = {c["text"] for e in doc["entries"] for c in e["claims"]}
    assert {"1.47x", "66.3%", "0.0046", "120 TPS", "65%", "8.36e-07", "1.72x"} <= flagged
    simulated = [e for e in doc["entries"] if "simulated" in e["hedges"]]
    assert len(simulated) >= 6
    # the two unchecked pending tasks claim nothing
    assert "hardware-aware-neural-symbolic-synthesis-for-sm-120-v2" not in by_id


def test_audit_accepts_numbers_that_evidence_backs(tmp_path):
    (tmp_path / ".git").mkdir()
    path = tmp_path / "DOCKET.md"
    path.write_text("## Completed Tasks\n- [x] **Fused softmax**: 1.62x vs torch.compile, "
                    "92% of copy bandwidth, 0.159 ms\n"
                    "- [x] **Fused GELU**: 3.1x\n")
    record = tmp_path / "results" / "fused-softmax" / "evidence.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"speedup": {"compile": 1.6231}, "bandwidth_fraction": 0.9204,
                                  "timing": {"median_ms": 0.1593}}))
    result = cli("audit", "--docket", str(path), "--json")
    doc = json.loads(result.stdout)
    assert [e["task_id"] for e in doc["entries"]] == ["fused-gelu"]
    assert result.returncode == 1
    record.parent.joinpath("../fused-gelu").resolve().mkdir()
    (tmp_path / "results" / "fused-gelu" / "evidence.json").write_text('{"speedup": 2.7}')
    doc = json.loads(cli("audit", "--docket", str(path), "--json").stdout)
    assert doc["entries"][0]["findings"] == ["unverified claims: 3.1x"]  # 2.7 does not back 3.1
    (tmp_path / "results" / "fused-gelu" / "evidence.json").write_text('{"speedup": 3.08}')
    final = cli("audit", "--docket", str(path))
    assert final.returncode == 0, final.stdout


def test_audit_lists_plan_rows_without_evidence():
    result = cli("audit", "--docket", str(FIXTURES / "plan-algorithm-gaps.md"), "--json")
    doc = json.loads(result.stdout)
    s1 = next(e for e in doc["entries"] if e["task_id"].startswith("s-1-"))
    assert s1["kind"] == "table"
    assert s1["findings"] == ["no evidence record: this plan row is not done"]


def test_a_commit_id_that_reads_as_a_number_is_not_a_claim():
    from docket.audit import find_claims
    line = "1.62x vs torch.compile (results/softmax/evidence.json, commit 085e909), 8.36e-07 error"
    assert [c.text for c in find_claims(line)] == ["1.62x", "8.36e-07"]
    assert [c.text for c in find_claims("3e5 tokens")] == ["3e5"]  # not after "commit"
