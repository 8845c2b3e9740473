"""The code being judged cannot write its verdict, see a secret, leave its sandbox, or outlive
its run. Each probe is a candidate (or problem) that tries; an honest control passes beside it.

CPU path (the interpreter); `pytest -m gpu` runs the same probes on a GPU.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.bench import bench
from tools.bench.judge import BadTolerance
from tools.sandbox import PROJECT_ROOT, Sandbox
from tools.verify import verify

CASES = Path(__file__).parent / "cases"
VERIFY_CASES = Path(__file__).parent.parent / "verify" / "cases"
ADD = CASES / "add_problem.py"
HONEST = VERIFY_CASES / "vector_add_ok.py"  # x + y, written honestly


def planted(tmp_path: Path, case: str, values: dict) -> Path:
    """A copy of a probe with what the test planted written into it (the paths and secrets an
    attacker would know or guess)."""
    source = (CASES / case).read_text()
    marker = source[source.index("PLANTED = {"):].split("\n", 1)[0]
    target = tmp_path / case
    target.write_text(source.replace(marker, f"PLANTED = {values!r}"))
    return target


def processes_named(*markers: str) -> list[int]:
    """Processes whose name or command line holds a marker a probe gave itself."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            text = (proc / "comm").read_text() + (proc / "cmdline").read_bytes().replace(
                b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(m in text for m in markers):
            found.append(int(proc.name))
    return found


def gone(*markers: str, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while processes_named(*markers) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not processes_named(*markers)


@pytest.mark.parametrize("case", ["patches_reference.py", "patches_judge.py"])
def test_a_candidate_cannot_make_its_own_verdict(case):
    """It computes x - y for x + y, then patches the reference, the inputs, the harness's
    comparison and every report it can reach. The verdict is made elsewhere: incorrect."""
    report = bench(ADD, CASES / case, device="cpu", timeout=120, use_cache=False)
    assert report.status == "rejected"
    assert "incorrect" in report.reasons(), report.rejections
    control = bench(ADD, HONEST, device="cpu", timeout=120)
    assert control.status == "correct", control.feedback()


def test_no_credential_is_readable(tmp_path, monkeypatch):
    """Planted in the parent's environment (names a denylist misses too), in a home folder of
    the parent, and in the lab: the candidate reads every environment it can see, /proc, and
    every file under those folders, and fails if it finds one."""
    secrets = {"OPENAI_API_KEY": "sk-planted-openai", "SLACK_WEBHOOK_URL": "planted-slack",
               "DISCORD_WEBHOOK": "planted-discord", "DB_PASS": "planted-dbpass",
               "MY_SERVICE_PASS": "planted-service", "GITHUB_TOKEN": "planted-gh",
               "TORCH_SECRET_TOKEN": "planted-torch-family"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "home"
    for rel, text in {".netrc": "machine api login x password planted-netrc",
                      ".ssh/id_rsa": "planted-ssh-key", ".pgpass": "*:*:*:*:planted-pgpass",
                      ".config/gh/hosts.yml": "oauth_token: planted-gh-cli"}.items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text)
    monkeypatch.setenv("HOME", str(home))
    markers = [*secrets.values(), "planted-netrc", "planted-ssh-key", "planted-pgpass",
               "planted-gh-cli"]
    probe = planted(tmp_path, "reads_secrets.py", {"markers": markers,
                                                    "folders": [str(home), str(tmp_path)]})
    report = bench(ADD, probe, device="cpu", timeout=120, use_cache=False)
    # it looked, and found nothing (its try/except is a static rejection, beside the point)
    assert report.correctness and "crash" not in report.reasons(), report.rejections
    # the probe does find what it is allowed to see: the check above can fail
    visible = planted(tmp_path, "reads_secrets.py", {"markers": ["TRITON_CACHE_DIR"],
                                                      "folders": []})
    assert "found credentials" in bench(ADD, visible, device="cpu", use_cache=False).feedback()


def test_nothing_written_outside_scratch_and_nothing_left_running(tmp_path):
    """The probe writes into the lab's git hooks, the docket, the project's source, the real
    home and /tmp, connects to PostgreSQL and Redis, and leaves 64 children and a setsid
    daemon behind. The test looks on the host."""
    lab = tmp_path / "lab"
    (lab / ".git" / "hooks").mkdir(parents=True)
    targets = [str(lab / ".git" / "hooks" / "pre-commit"), str(lab / "DOCKET.md"),
               str(PROJECT_ROOT / "tools" / "pwned.py"), str(Path.home() / "pwned-by-kernel"),
               f"/tmp/autodocket-pwned-{os.getpid()}"]
    name, daemon = f"esc{os.getpid()}"[:15], str(900000 + os.getpid() % 99999)
    probe = planted(tmp_path, "escapes.py", {"writes": targets, "name": name, "daemon": daemon})
    report = bench(ADD, probe, device="cpu", timeout=180, use_cache=False)
    assert report.correctness and "crash" not in report.reasons(), report.rejections
    assert [t for t in targets if Path(t).exists()] == []
    assert gone(name, f"sleep {daemon}")  # 64 children and a setsid daemon: all gone


def test_killing_bench_kills_its_sandbox(tmp_path):
    """`autodocket bench` killed with SIGKILL (no chance to clean up) takes the busy-looping
    candidate with it."""
    name = f"busy{os.getpid()}"[:15]
    probe = planted(tmp_path, "busy_loop.py", {"name": name})
    cli = subprocess.Popen([sys.executable, "-m", "agents.cli", "bench", str(ADD), str(probe),
                            "--device", "cpu"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not processes_named(name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_named(name), "the candidate never started"
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    assert gone(name)


def test_scratch_size_process_count_and_environment_are_limited(tmp_path):
    box = Sandbox(timeout=60, disk_gb=0.05)
    try:
        big = box.run(["-c", "f = open('big', 'wb')\nwhile True: f.write(b'x' * 2**20)"])
    finally:
        box.close()
    assert big.killed in ("disk",) or big.returncode not in (0, None), big
    os.environ["AUTODOCKET_PROBE_PASSWORD"] = "hidden"
    try:
        box = Sandbox(timeout=60)
        seen = box.run(["-c", "import os, json; print(json.dumps(dict(os.environ)))"])
        box.close()
    finally:
        del os.environ["AUTODOCKET_PROBE_PASSWORD"]
    env = json.loads(seen.stdout)
    assert "AUTODOCKET_PROBE_PASSWORD" not in env and env["HOME"] == "/sandbox"
    assert set(env) <= {"PATH", "LANG", "TERM", "TZ", "HOME", "TMPDIR", "PYTHONPATH",
                        "PYTHONDONTWRITEBYTECODE", "PYTHONNOUSERSITE", "TRITON_CACHE_DIR",
                        "PWD", "LC_ALL", "LD_LIBRARY_PATH"} | {k for k in env if k.startswith(
                            ("LC_", "CUDA_", "NVIDIA_", "TRITON_", "TORCH_", "PYTORCH_"))}
    if any("pids cgroup" in line for line in seen.isolation):
        box = Sandbox(timeout=60, processes=32)
        try:
            bomb = box.run(["-c", "import os, time\nfor _ in range(200):\n    if os.fork() == 0:"
                            "\n        time.sleep(30)\n        os._exit(0)\ntime.sleep(30)"])
        finally:
            box.close()
        assert bomb.killed == "processes" or bomb.returncode != 0, bomb


def test_a_data_dependent_out_of_bounds_store_is_caught_at_run_time():
    """Z3 cannot bound a store whose address depends on the data; the bounds-checked
    interpreter sees it land outside every tensor of the launch."""
    report = bench(ADD, CASES / "data_dependent_oob.py", device="cpu", timeout=180)
    assert report.status == "rejected" and "out-of-bounds" in report.reasons(), report.rejections
    assert report.dynamic_check["status"] == "violations"
    # the check runs in the candidate's process, which can turn it off: it rejects, and its
    # silence clears nothing (the loop asks for Z3's proof or a sanitizer instead)
    control = bench(ADD, HONEST, device="cpu", timeout=120)
    assert control.dynamic_check["status"] == "unconfirmed"
    assert control.dynamic_check["accesses"] > 0 and "own process" in control.dynamic_check["why"]


def test_an_output_no_kernel_is_given_is_not_proved():
    """PyTorch computes the output and a canary kernel tells the ghost run apart (the ghost
    check passes): the verifier sees that no launch is given the output, and coverage fails."""
    report = verify(CASES / "softmax_problem.py", CASES / "ghost_canary.py", use_cache=False)
    assert report.status == "violated", report.feedback()
    assert [f["access"] for f in report.findings if f["status"] == "violated"] == \
        ["output 0"] * 2  # default and set1
    assert "given to no Triton launch" in report.feedback()


def test_switching_off_the_in_process_bounds_check_clears_nothing():
    """The candidate turns the CPU's bounds check off from inside its process and reads past
    the end of x: the check's silence is not a clean run, and Z3 finds the read."""
    report = bench(ADD, CASES / "disables_bounds_check.py", device="cpu", timeout=120,
                   use_cache=False)
    assert report.dynamic_check["status"] == "unconfirmed", report.dynamic_check
    proof = verify(ADD, CASES / "disables_bounds_check.py", use_cache=False)
    assert proof.status == "violated" and "x_ptr" in proof.feedback(), proof.feedback()


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="open: code in the candidate's "
                   "process can tell the ghost run apart and overwrite its kernel's output")
def test_an_output_overwritten_after_its_kernel_is_not_accepted():
    kernel = CASES / "overwrites_after_its_kernel.py"
    report = bench(CASES / "softmax_problem.py", kernel, device="cpu", use_cache=False)
    proof = verify(CASES / "softmax_problem.py", kernel, use_cache=False)
    assert report.status == "rejected" or proof.status != "proved"


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="open: launches are recorded "
                   "in a mode the candidate can tell from the real runs")
def test_launches_recorded_for_the_proof_are_the_launches_that_run():
    kernel = CASES / "launches_differently_when_recorded.py"
    assert verify(ADD, kernel, use_cache=False).status == "violated"


def test_a_forged_launch_record_or_report_is_not_a_proof():
    """The out-of-bounds kernel hides its launches from the recorder and writes a "proved"
    report where the old verifier read its verdict: the analysis, made elsewhere, has nothing
    to prove it with."""
    report = verify(ADD, CASES / "forges_launches.py", use_cache=False)
    assert report.status != "proved", report.to_dict()
    bad = verify(VERIFY_CASES / "vector_add_problem.py", VERIFY_CASES / "bug_missing_mask.py",
                 use_cache=False)
    assert bad.status == "violated"


def test_a_candidate_cannot_plant_a_cached_verdict(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    problem, bad = VERIFY_CASES / "vector_add_problem.py", VERIFY_CASES / "bug_missing_mask.py"
    assert verify(problem, bad).status == "violated"  # now cached
    probe = planted(tmp_path, "plants_cache.py",
                    {"caches": [str(cache / "autodocket" / "verify")]})
    assert verify(ADD, probe).status == "proved"  # the probe ran (its launches were recorded)
    for entry in (cache / "autodocket" / "verify").glob("*.json"):
        assert json.loads(entry.read_text()).get("status") != "proved" or \
            json.loads(entry.read_text()).get("findings"), entry  # only real verdicts
    assert verify(problem, bad).status == "violated"


def test_a_model_written_problem_cannot_loosen_its_tolerance():
    loose = CASES / "loose_tolerance_problem.py"
    zeros = CASES / "zeros_within_tolerance.py"
    report = bench(loose, zeros, device="cpu")
    assert report.status == "error" and report.exit_code == 2
    assert "at most 0.01" in report.error and "researcher's own" in report.error
    own = bench(loose, HONEST, device="cpu", researchers_problem=True)
    assert own.status == "correct" and any("looser" in n for n in own.notes)


def test_a_model_written_problem_cannot_forge_its_tolerance_from_its_reference():
    """What its reference's process reports is not the source of the tolerance: ATOL, RTOL and
    DTYPE are read from the file, the dtypes checked against the expected outputs' own."""
    forged = CASES / "forges_its_tolerance_problem.py"
    report = bench(forged, CASES / "zeros_within_tolerance.py", device="cpu", use_cache=False)
    assert report.status == "error" and report.exit_code == 2, report.feedback()
    assert "at most 0.01 for torch.float32" in report.error


def test_a_dtype_the_problem_takes_back_does_not_loosen_its_bound():
    report = bench(CASES / "takes_back_its_dtype_problem.py", CASES / "zeros_within_tolerance.py",
                   device="cpu", use_cache=False)
    assert report.status == "error" and "at most 0.01 for torch.float32" in report.error


def test_a_problem_file_in_another_coding_is_read(tmp_path):
    """The tolerance is read from the file's text: a latin-1 file (it says so) is a problem,
    not a crash of the judge."""
    latin1 = tmp_path / "latin1_problem.py"
    latin1.write_bytes(b"# -*- coding: latin-1 -*-\n\"\"\"caf\xe9\"\"\"\n" + ADD.read_bytes())
    assert bench(latin1, HONEST, device="cpu", use_cache=False).status == "correct"


def test_the_drawing_object_holds_the_problems_inputs_and_not_its_reference():
    """The candidate's code can walk its frames to the harness's drawing object (third red
    team): it finds get_inputs and its helpers, rebound to a namespace with no nn.Module."""
    import types

    from tools.bench.candidate import inputs_only
    problem = types.ModuleType("problem")
    exec("import torch\nclass Model(torch.nn.Module): pass\nReference = Model\n"
         "def _draw(n): return [torch.randn(n)]\ndef get_inputs(*, n=7): return _draw(n)\n"
         "SHAPES = [(3,)]\n", vars(problem))
    stripped = inputs_only(problem)
    assert stripped.get_inputs()[0].shape == (7,) and stripped.SHAPES == [(3,)]
    reachable = stripped.get_inputs.__globals__
    assert "Model" not in reachable and "Reference" not in reachable
    assert reachable["_draw"].__globals__ is reachable and not hasattr(stripped, "Model")


def test_tolerances_are_read_from_the_problem_file_without_running_it():
    from tools.bench.judge import UNREADABLE, declared_in_source, tolerance
    assert declared_in_source("ATOL, RTOL = 2e-2, 1e-3\nDTYPE = torch.bfloat16\n") == \
        {"atol": 2e-2, "rtol": 1e-3, "dtype": "torch.bfloat16"}
    assert declared_in_source("ATOL = RTOL = 0.2\n") == {"atol": 0.2, "rtol": 0.2, "dtype": None}
    assert declared_in_source("ATOL = 1e-3 * 10\n")["atol"] == UNREADABLE
    assert declared_in_source("ATOL = 1e-3\nif x:\n    ATOL = 1.0\n")["atol"] == UNREADABLE
    assert declared_in_source("ATOL = 1e-3\nglobals()['ATOL'] = 1.0\n")["atol"] == UNREADABLE
    # third red team: a list for a dtype crashed the judge; an import rebinding it went unseen
    assert declared_in_source("DTYPE = [1]\n")["dtype"] == UNREADABLE
    assert declared_in_source("DTYPE = torch.float16\nfrom torch import float32 as DTYPE\n")[
        "dtype"] == UNREADABLE
    meta = {"tolerance_dtype": "torch.float32", "bound_dtype": "torch.float8_e5m2",
            "declared": {"atol": 0.2, "rtol": 0.2}}
    # the file declares nothing: the reference's claims count for nothing either
    assert tolerance(meta, "cpu", False, "", "torch.float32")["atol"] == 1e-4
    with pytest.raises(BadTolerance, match="expression"):
        tolerance(meta, "cpu", False, "ATOL = 1e-3 * 10\n", "torch.float32")


def test_an_unreadable_report_from_the_candidate_is_no_verdict():
    report = bench(ADD, CASES / "garbage_report.py", device="cpu", timeout=120)
    assert report.status == "rejected" and "no-report" in report.reasons(), report.rejections


def test_the_sandbox_is_refused_rather_than_skipped_where_bubblewrap_is_missing(monkeypatch):
    import tools.sandbox
    monkeypatch.setattr(tools.sandbox, "_bwrap_ok", (None, "bubblewrap (bwrap) is not installed"))
    monkeypatch.delenv(tools.sandbox.UNSANDBOXED_ENV, raising=False)
    report = bench(ADD, HONEST, device="cpu", use_cache=False)
    assert report.status == "error" and "--unsandboxed" in report.error
    assert verify(ADD, HONEST, use_cache=False).status == "error"
    monkeypatch.setenv(tools.sandbox.UNSANDBOXED_ENV, "1")
    report = bench(ADD, HONEST, device="cpu", use_cache=False)
    assert report.status == "correct" and any("UNSANDBOXED" in n for n in report.notes)


def test_a_script_run_from_tmp_still_gets_a_sandbox(tmp_path):
    """A script in /tmp puts /tmp on sys.path; the sandbox's own /tmp must win (binding the
    host's over it failed every run with "Can't make symlink at /tmp")."""
    script = Path("/tmp") / f"autodocket-from-tmp-{os.getpid()}.py"
    script.write_text("from tools.sandbox import Sandbox\n"
                      "box = Sandbox(timeout=60)\n"
                      "run = box.run(['-c', 'import os; print(os.path.realpath(\"/tmp\"))'])\n"
                      "box.close()\n"
                      "print('rc', run.returncode, run.stdout.strip(), run.stderr.strip()[-200:])\n")
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    finally:
        script.unlink()
    assert "rc 0 /sandbox/tmp" in done.stdout, done.stdout + done.stderr


def test_a_low_address_space_limit_does_not_break_the_harness(tmp_path):
    """Under `ulimit -v` below the harness's own memory limit (16 GiB) every bench used to fail
    in preexec_fn; the limit is now capped at the hard limit the process was given."""
    code = ("import resource, sys\nresource.setrlimit(resource.RLIMIT_AS, (12 << 30, 12 << 30))"
            f"\nsys.path.insert(0, {str(PROJECT_ROOT)!r})\nfrom tools.bench import bench\n"
            f"r = bench({str(ADD)!r}, {str(HONEST)!r}, device='cpu', use_cache=False)\n"
            "print(r.status)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.strip().endswith("correct"), out.stderr[-2000:]


@pytest.mark.gpu
def test_the_trust_chain_on_a_gpu(tmp_path, monkeypatch):
    """The same probes on a GPU: verdicts made outside the candidate, nothing readable or left
    behind, a data-dependent out-of-bounds store caught by compute-sanitizer, and an honest
    kernel timed with its times checked against the wall clock the harness watched."""
    fast = dict(device="cuda", repeats=20, baselines=False, timeout=600)
    for case in ("patches_reference.py", "patches_judge.py"):
        assert "incorrect" in bench(ADD, CASES / case, **fast).reasons(), case
    monkeypatch.setenv("OPENAI_API_KEY", "sk-planted-openai")
    secrets = planted(tmp_path, "reads_secrets.py", {"markers": ["sk-planted-openai"],
                                                      "folders": [str(tmp_path)]})
    report = bench(ADD, secrets, **fast)
    assert report.correctness and "crash" not in report.reasons(), report.rejections
    name, daemon = f"gpuesc{os.getpid()}"[:15], str(800000 + os.getpid() % 99999)
    escapes = planted(tmp_path, "escapes.py", {"writes": [str(PROJECT_ROOT / "tools" / "x.py")],
                                               "name": name, "daemon": daemon})
    report = bench(ADD, escapes, **fast)
    assert "crash" not in report.reasons() and not (PROJECT_ROOT / "tools" / "x.py").exists()
    assert gone(name, f"sleep {daemon}")
    oob = bench(ADD, CASES / "data_dependent_oob.py", sanitize=True, **fast)
    assert oob.status == "rejected" and "sanitizer" in oob.reasons(), oob.to_dict()
    assert oob.dynamic_check["status"] == "errors" and oob.dynamic_check["error_count"] > 0
    honest = bench(ADD, HONEST, sanitize=True, device="cuda", repeats=30)
    assert honest.status == "correct", honest.feedback()
    assert honest.dynamic_check["status"] == "clean"
    assert all(s["observed_ms_per_run"] > 0 for s in honest.timing["sets"])


@pytest.mark.gpu
def test_on_a_gpu_the_launches_verified_are_the_launches_run(tmp_path):
    """The harness records a candidate's launches for the verifier on the card it ran on, in
    the problem's dtype: the persistent matmul's grid is one program per SM (capped by its
    tiles), not the CPU's four, and its tensors are bfloat16."""
    import torch

    from kernels.library import CATALOG, match, render
    from tools.verify import verify
    problem = CATALOG / "matmul_bias_gelu.py"
    found = match(problem)
    kernel = tmp_path / "k.py"
    kernel.write_text(render(found, {**found.template.DEFAULT, "PERSISTENT": 1}))
    report = bench(problem, kernel, device="cuda", repeats=5, baselines=False,
                   record_launches=True)
    assert report.status == "correct", report.feedback()
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    [default] = [s for s in report.launch_record["sets"] if s["input_set"] == "default"]
    [launch] = default["launches"]
    assert launch["grid"][0] == sms, launch["grid"]  # 8192x8192: more tiles than SMs
    assert {t["dtype"] for t in launch["tensors"].values()} == {"torch.bfloat16"}
    verdict = verify(problem, kernel, launches=report.launch_record, use_cache=False)
    assert verdict.status == "proved", verdict.feedback()
    # the loop's verify node proves the same launches: the card's grid, not the CPU's four
    from agents.graph import verify as verify_node
    state = {"task_id": "t", "attempt": 1, "feedback": [],
             "problem_source": problem.read_text(), "kernel_source": kernel.read_text()}
    update = verify_node(state, {"configurable": {"lab_root": str(tmp_path), "device": "cuda"}})
    assert update["verification"]["status"] == "proved", update["verification"]
    assert update["verification"]["launches_on"] == "cuda"
    grids = {launch["grid"][0] for launch in update["verification"]["launches"]
             if launch["input_set"] == "default"}
    assert grids == {sms}, grids
    # and so does `autodocket verify` on a GPU machine
    ran = subprocess.run([sys.executable, "-m", "agents.cli", "verify", str(problem),
                          str(kernel), "--device", "cuda", "--json", "--no-cache"],
                         capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    verdict = json.loads(ran.stdout)
    assert verdict["status"] == "proved"
    assert {launch["grid"][0] for launch in verdict["launches"]
            if launch["input_set"] == "default"} == {sms}
