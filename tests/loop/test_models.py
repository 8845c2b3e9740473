"""The loop with model backends, through LiteLLM's real HTTP path to a scripted server."""
import json
from pathlib import Path

import pytest
from git import Repo

from agents.council import consensus, parse_review
from agents.models import AnswerError, json_object, one_block, strip_reasoning
from scripted_models import ScriptedModels
from test_loop import cli

CASES = Path(__file__).resolve().parents[1] / "verify" / "cases"
PROBLEM = (CASES / "softmax_problem.py").read_text().replace(
    "SHAPES = [(7, 33)]", "ATOL, RTOL = 1e-5, 1e-5\nSHAPES = [(7, 33)]")
GOOD = (CASES / "softmax_ok.py").read_text()
OUT_OF_BOUNDS = GOOD.replace("num / tl.sum(num, axis=0), mask=cols < n_cols)",
                             "num / tl.sum(num, axis=0))")
# the kernel writes the output, then PyTorch writes it again: the verifier's proof holds, the
# harness rejects it
REWARD_HACK = GOOD.replace("        return out",
                           "        return out.copy_(torch.softmax(x, dim=-1))")
IN_COST, OUT_COST = 1e-6, 2e-6  # dollars per token; every scripted answer uses 100 + 50 tokens
ANSWER_COST = 100 * IN_COST + 50 * OUT_COST


def block(lang: str, body: str) -> str:
    return f"```{lang}\n{body.rstrip()}\n```"


def verdict(v: str, *findings) -> dict:
    return {"content": block("json", json.dumps({
        "verdict": v, "confidence": 0.8,
        "findings": [{"line": line, "severity": sev, "text": text}
                     for line, sev, text in findings]}))}


def make_lab(tmp_path: Path, docket: str, url: str, budget: float | None = None,
             seats=("seat-a", "seat-b", "seat-c")) -> Path:
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "DOCKET.md").write_text(docket)
    model = (f'api_base = "{url}", input_cost_per_token = {IN_COST}, '
             f'output_cost_per_token = {OUT_COST}')
    (lab / "autodocket.toml").write_text("\n".join([
        "[models]", "retries = 3", "backoff_s = 0.01", "timeout_s = 2",
        *([f"budget_usd = {budget}"] if budget is not None else []),
        f'planner = {{ model = "openai/planner", {model} }}',
        f'coder = {{ model = "openai/coder", {model} }}',
        *[f'[[models.council]]\nname = "{s}"\nmodel = "openai/{s}"\n{model.replace(", ", chr(10))}'
          for s in seats]]) + "\n")
    repo = Repo.init(lab, initial_branch="main")
    repo.index.add(["DOCKET.md", "autodocket.toml"])
    repo.index.commit("lab")
    return lab


SOFTMAX_DOCKET = "# Lab\n\n## Pending Tasks\n- [ ] **Fused Row Softmax**: a Triton row softmax.\n"


def test_retries_feedback_and_a_split_council_end_in_one_commit(tmp_path):
    scripts = {
        # garbage first (retried once with the parse error); then an answer whose inline
        # reasoning holds a code block of its own, which must not count as the answer
        "planner": [{"content": "Sure! I will plan this task."},
                    {"content": "<think>draft:\n```python\nx = 1\n```\n</think>\n" +
                     block("python", PROBLEM), "reasoning": "the task asks for softmax"}],
        # a 429 burst, then a kernel with an unmasked store (the verifier's counterexample goes
        # back), a timeout, then a reward hack (the harness rejects it), then the fix
        "coder": [{"status": 429}, {"status": 429}, {"status": 429},
                  {"content": block("python", OUT_OF_BOUNDS)},
                  {"content": "too slow", "delay": 4},
                  {"content": block("python", REWARD_HACK)},
                  {"content": "<think>now mask the store</think>" + block("python", GOOD),
                   "reasoning": "long reasoning"}],
        "seat-a": [verdict("approve", (None, "info", "masks on every access"))],
        "seat-b": [verdict("approve")],
        "seat-c": [{"content": "I think it is fine?"},
                   verdict("reject", (14, "error", "no vectorized loads: a slow kernel"))],
    }
    with ScriptedModels(scripts) as server:
        lab = make_lab(tmp_path, SOFTMAX_DOCKET, server.url)
        result = cli(lab, "run", "--max-tasks", "1", "--device", "cpu")
        coder_prompts = [r["messages"][-1]["content"] for r in server.asked("coder")]
        planner_turns = server.asked("planner")[-1]["messages"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "models: planner models, coder models, council models" in result.stdout

    # the malformed planner answer went back once with the parse error
    assert "could not be used: expected exactly one fenced code block, found 0" in \
        planner_turns[-1]["content"]
    # each retry of the coder carried the reason the last attempt failed
    assert len(coder_prompts) == 7
    assert "(first attempt)" in coder_prompts[3]
    assert "verifier" in coder_prompts[5] and "counterexample" in coder_prompts[5].lower()
    assert "harness" in coder_prompts[6] and "reference" in coder_prompts[6].lower()
    # ... and the profile of that attempt: its kernel's registers and spills (sm_90, compiled
    # on this CPU), and what could not be profiled here
    assert "profile (" in coder_prompts[6] and "softmax_kernel:" in coder_prompts[6]
    assert "registers" in coder_prompts[6] and "no GPU here" in coder_prompts[6]

    branch = "autodocket/fused-row-softmax"
    repo = Repo(lab)
    rid = "results/fused-row-softmax"
    ev = json.loads(repo.git.show(f"{branch}:{rid}/evidence.json"))
    assert repo.git.show(f"{branch}:{rid}/kernel.py").strip() == GOOD.strip()
    assert ev["attempts"] == 3 and ev["verification"]["status"] == "proved"
    assert ev["correctness"]["status"] == "correct"
    assert ev["feedback"][0].startswith("attempt 1, verifier")
    assert ev["feedback"][1].startswith("attempt 2, harness")

    calls = ev["model_calls"]["calls"]
    outcomes = [(c["role"], c["outcome"].split(":")[0]) for c in calls]
    assert outcomes.count(("coder", "error 429 RateLimitError")) == 3
    assert ("coder", "error 408 Timeout") in outcomes
    assert ("planner", "malformed") in outcomes and ("seat-c", "malformed") in outcomes
    answered = [c for c in calls if c["outcome"] != "error" and not
                c["outcome"].startswith("error")]
    assert len(answered) == 2 + 3 + 4  # planner 2, coder 3 kernels, seats 1 + 1 + 2
    assert ev["model_calls"]["tokens"] == 150 * len(answered)
    assert ev["model_calls"]["cost_usd"] == pytest.approx(ANSWER_COST * len(answered))
    assert all(c["reasoning_chars"] > 0 for c in calls if c["role"] == "planner"
               and c["outcome"] == "answered")

    council = ev["council"]["consensus"]
    assert council["verdict"] == "approve" and council["approvals"] == 2
    assert [d["seat"] for d in council["dissent"]] == ["seat-c"]
    assert council["dissent"][0]["findings"][0]["line"] == 14
    report = repo.git.show(f"{branch}:{rid}/REPORT.md")
    assert "seat-c: reject" in report and "no vectorized loads" in report
    prs = json.loads(cli(lab, "prs", "--json").stdout)
    assert [(p["task_id"], p["council"]) for p in prs] == [("fused-row-softmax", "2/3 approve")]
    assert (lab / "DOCKET.md").read_text() == SOFTMAX_DOCKET  # nothing ticked before approval


def test_spend_cap_stops_the_run_before_the_next_request(tmp_path):
    scripts = {"planner": [{"content": block("python", PROBLEM)}],
               "coder": [{"content": block("python", GOOD)}]}
    with ScriptedModels(scripts) as server:
        lab = make_lab(tmp_path, SOFTMAX_DOCKET, server.url, budget=ANSWER_COST / 2)
        result = cli(lab, "run", "--max-tasks", "1", "--device", "cpu")
        asked = [r["model"] for r in server.requests]
    assert result.returncode == 1
    assert asked == ["planner"]  # the coder was never asked: the cap was spent
    assert "spend-cap" in result.stdout and "spend cap $0.0001 reached" in result.stdout
    assert not [h for h in Repo(lab).heads if h.name.startswith("autodocket/")]
    assert (lab / "DOCKET.md").read_text() == SOFTMAX_DOCKET
    show = json.loads(cli(lab, "show", "--json").stdout)
    assert [t["status"] for t in show["tasks"]] == ["in-progress"]


def test_planner_parks_a_task_that_is_not_kernel_work(tmp_path):
    answer = block("json", json.dumps({"kernel_task": False,
                                       "reason": "a chat integration, not a kernel"}))
    with ScriptedModels({"planner": [{"content": answer}]}) as server:
        lab = make_lab(tmp_path, "# Lab\n\n- [ ] **Proactive Discord Alerts**: summaries.\n",
                       server.url)
        result = cli(lab, "run", "--max-tasks", "1", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert "needs-human" in result.stdout and "a chat integration" in result.stdout


def test_unreachable_models_fall_back_to_offline_and_say_so(tmp_path):
    lab = make_lab(tmp_path, "# Lab\n\n- [ ] **Proactive Discord Alerts**: summaries.\n",
                   "http://127.0.0.1:9/v1")  # port 9 (discard): nothing listens
    result = cli(lab, "run", "--max-tasks", "1", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert "planner: no model reachable" in result.stdout and "offline" in result.stdout
    assert "needs-human" in result.stdout


# strict parsing and the consensus rule, without a server ---------------------------------------
def test_reasoning_is_stripped_before_parsing():
    assert strip_reasoning("<think>```python\nbad\n```</think>ok") == "ok"
    assert strip_reasoning("thinking without an opening tag</think>\nanswer") == "answer"


@pytest.mark.parametrize("answer, error", [
    ("no block at all", "found 0"),
    ("```python\na\n```\n```python\nb\n```", "found 2"),
    ("```\na = 1\n```", "tagged python"),
])
def test_one_block_is_strict(answer, error):
    with pytest.raises(AnswerError, match=error):
        one_block(answer, ("python",))


@pytest.mark.parametrize("answer, error", [
    ('{"verdict": "maybe", "findings": [], "confidence": 1}', "verdict"),
    ('{"verdict": "approve", "findings": [{"severity": "fatal", "text": "x"}], '
     '"confidence": 1}', "findings"),
    ('{"verdict": "approve", "findings": [], "confidence": 3}', "confidence"),
    ("[1, 2]", "JSON object"),
    ("{verdict: approve}", "not valid JSON"),
])
def test_review_schema_is_enforced(answer, error):
    with pytest.raises(AnswerError, match=error):
        parse_review(answer)
    assert json_object('```json\n{"a": 1}\n```') == {"a": 1}


def seat(name, verdict, *severities):
    return {"seat": name, "verdict": verdict, "confidence": 0.5,
            "findings": [{"line": None, "severity": s, "text": s} for s in severities]}


def test_consensus_majority_veto_and_abstention():
    split = consensus([seat("a", "approve"), seat("b", "approve"), seat("c", "reject", "error")])
    assert split["verdict"] == "approve" and [d["seat"] for d in split["dissent"]] == ["c"]
    # two seats raising an error finding veto an approving majority of three out of five
    veto = consensus([seat("a", "approve"), seat("b", "approve"), seat("c", "approve", "error"),
                      seat("d", "reject", "error"), seat("e", "reject")])
    assert veto["verdict"] == "reject" and veto["vetoed"]
    # an abstaining seat does not vote: one approval of one vote is a majority
    lone = consensus([seat("a", "approve"), seat("b", "abstain")])
    assert lone["verdict"] == "approve" and lone["voted"] == 1
    assert consensus([seat("a", "approve"), seat("b", "reject")])["verdict"] == "reject"


@pytest.mark.parametrize("toml, error", [
    ('[models.coder]\nmodel = "openai/x"\napi_key = "sk-123"\n', "environment"),
    ('[models.coder]\nmodel = "openai/x"\nspeed = 3\n', "unknown key"),
    ('[models.planner]\napi_base = "http://127.0.0.1:1/v1"\n', "needs model"),
])
def test_bad_model_configuration_is_one_line_exit_2(tmp_path, toml, error):
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "DOCKET.md").write_text(SOFTMAX_DOCKET)
    (lab / "autodocket.toml").write_text(toml)
    Repo.init(lab)
    result = cli(lab, "run", "--max-tasks", "1", "--device", "cpu")
    assert result.returncode == 2 and error in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_harness_that_cannot_run_parks_the_task_for_a_human(tmp_path, monkeypatch):
    """An error of the problem or the machine is no kernel's fault: no retries, needs-human."""
    import tools.bench
    from agents.graph import after_measure, measure
    from tools.bench import BenchReport
    monkeypatch.setattr(tools.bench, "bench", lambda *files, **settings: BenchReport(
        "error", error="numpy<2.4 needed"))
    state = {"task_id": "t", "attempt": 1, "max_attempts": 3, "problem_source": "# problem\n",
             "kernel_source": "# kernel\n", "feedback": [], "verification": {"status": "proved"}}
    update = measure(state, {"configurable": {"lab_root": str(tmp_path), "device": "cpu"}})
    assert update["outcome"] == "needs-human" and "numpy<2.4" in update["reason"]
    assert after_measure({**state, **update}) == "park"


def test_an_unproved_kernel_without_a_dynamic_check_goes_to_a_human(tmp_path, monkeypatch):
    """Z3 said unknown and no run watched the kernel's memory accesses (compute-sanitizer
    missing, say): not shown safe, so no pull request; with a clean check it goes on."""
    import hashlib

    import tools.bench
    from agents.graph import after_measure, measure
    from tools.bench import BenchReport
    # the verify node's run watched nothing: the measure node runs it again under the sanitizer
    state = {"task_id": "t", "attempt": 1, "max_attempts": 3, "problem_source": "# problem\n",
             "kernel_source": "# kernel\n", "feedback": [],
             "verification": {"status": "unknown"},
             "harness_run": BenchReport("correct").to_dict(),
             "harness_run_of": hashlib.sha256(b"# kernel\n").hexdigest()}
    config = {"configurable": {"lab_root": str(tmp_path), "device": "cuda"}}
    asked = {}

    def fake(*files, device, sanitize, researchers_problem):
        asked["sanitize"] = sanitize
        return BenchReport("correct", dynamic_check={
            "kind": "compute-sanitizer memcheck (GPU)", "status": "not run",
            "why": "compute-sanitizer not found"})
    monkeypatch.setattr(tools.bench, "bench", fake)
    update = measure(state, config)
    assert asked["sanitize"] and update["outcome"] == "needs-human"
    assert "no dynamic check ran (compute-sanitizer not found)" in update["reason"]
    assert after_measure({**state, **update}) == "park"
    monkeypatch.setattr(tools.bench, "bench", lambda *f, **k: BenchReport(
        "correct", dynamic_check={"kind": "compute-sanitizer memcheck (GPU)", "status": "clean"}))
    update = measure(state, config)
    assert "outcome" not in update and after_measure({**state, **update}) == "review"


def test_on_a_gpu_a_kernel_whose_launches_were_not_recorded_is_not_proved(tmp_path, monkeypatch):
    """The verify node proves the launches the card runs; a GPU run that recorded none (the
    candidate failed there) is `unknown`, never a proof of the verifier's own CPU recording,
    so the measure node runs it under compute-sanitizer."""
    import tools.bench
    import tools.verify
    from agents.graph import verify
    from tools.bench import BenchReport
    asked = {}

    def fake_bench(*files, device, record_launches, researchers_problem, **gpu):
        asked.update(device=device, record=record_launches, **gpu)
        return BenchReport("rejected", rejections=[{"reason": "crash", "detail": "exit 1"}])
    monkeypatch.setattr(tools.bench, "bench", fake_bench)
    monkeypatch.setattr(tools.verify, "verify", lambda *a, **k: pytest.fail("verified anyway"))
    state = {"task_id": "t", "attempt": 1, "problem_source": "# problem\n",
             "kernel_source": "# kernel\n", "feedback": []}
    update = verify(state, {"configurable": {"lab_root": str(tmp_path), "device": "cuda"}})
    assert asked == {"device": "cuda", "record": True}  # the full measurement, recorded
    assert update["verification"]["status"] == "unknown"
    assert "could not be recorded (rejected)" in update["verification"]["error"]
    assert "crash" in update["verification"]["error"] and "feedback" not in update
    assert update["launch_record"] is None  # approve has no card record to re-verify
    # a harness that could not run on the card at all is no kernel's fault: still `unknown`,
    # so the measure node (which meets the same error) parks the task for a human
    monkeypatch.setattr(tools.bench, "bench", lambda *f, **k: BenchReport(
        "error", error="numpy<2.4 needed"))
    update = verify(state, {"configurable": {"lab_root": str(tmp_path), "device": "cuda"}})
    assert update["verification"]["status"] == "unknown" and "feedback" not in update
    assert "numpy<2.4" in update["verification"]["error"]


def test_the_candidate_runs_once_for_the_proof_and_the_measurement(tmp_path, monkeypatch):
    """On a GPU the verify node's harness run is the measurement: it records the launches Z3
    proves, and the measure node judges that run instead of running the candidate again."""
    import tools.bench
    import tools.verify
    from agents.graph import after_measure, after_verify, measure, verify
    from tools.bench import BenchReport
    from tools.verify import VerifyReport
    record = {"sets": [{"input_set": "default", "launches": []}]}
    runs = []

    def fake_bench(*files, **settings):
        runs.append(settings)
        timing = {"sets": [{"input_set": "default", "speedup_vs_eager": 2.0,
                            "speedup_vs_compile": 1.1}]}
        return BenchReport("correct", timing=timing, launch_record=record,
                           dynamic_check={"status": "not run", "why": "proved"})
    proved = []
    monkeypatch.setattr(tools.bench, "bench", fake_bench)
    monkeypatch.setattr(tools.verify, "verify", lambda *a, launches, **k: (
        proved.append(launches), VerifyReport("proved"))[1])
    monkeypatch.setattr("tools.profile.profile", lambda *a, **k: type(
        "Profile", (), {"to_dict": lambda self: {"status": "skipped"}})())
    state = {"task_id": "t", "attempt": 1, "max_attempts": 3, "problem_source": "# problem\n",
             "kernel_source": "# kernel\n", "feedback": [], "title": "softmax", "text": ""}
    config = {"configurable": {"lab_root": str(tmp_path), "device": "cuda"}}
    state.update(verify(state, config))
    assert runs == [{"device": "cuda", "record_launches": True, "researchers_problem": False}]
    assert proved == [record] and after_verify(state) == "measure"
    update = measure(state, config)
    assert len(runs) == 1  # judged the verify node's run: no second one
    assert update["measurement"]["speedups"][0]["vs_compile"] == 1.1
    assert update["harness_run"] is None and after_measure({**state, **update}) == "review"


def test_the_searchs_measurement_is_proved_and_kept_and_never_another_kernels(
        tmp_path, monkeypatch):
    """On a GPU the offline search measures its winner against eager and compile, with as many
    timed runs as the harness's default: the loop proves that run's launches and judges it
    without running the kernel again. A run kept for one kernel is never taken for another."""
    import agents.coder
    import tools.bench
    import tools.verify
    from agents.graph import code, measure, verify
    from kernels.library import SolveResult
    from tools.bench import REPEATS, BenchReport
    from tools.verify import VerifyReport
    record = {"sets": [{"input_set": "default", "launches": []}]}
    searched = BenchReport("correct", launch_record=record,
                           timing={"sets": [{"input_set": "default", "speedup_vs_eager": 3.0,
                                             "speedup_vs_compile": 1.2}]},
                           dynamic_check={"status": "not run", "why": "proved"})
    asked, proved, ran = {}, [], []

    def fake_solve(problem, out, **settings):
        asked.update(settings)
        Path(out).write_text("# the search's winner\n")
        return SolveResult("solved", family="softmax", config={}, origin="template",
                           harness_run=searched)
    monkeypatch.setattr(agents.coder, "solve", fake_solve)
    monkeypatch.setattr(tools.bench, "bench", lambda *a, **k: (ran.append(k), BenchReport(
        "correct", launch_record=None))[1])
    monkeypatch.setattr(tools.verify, "verify", lambda *a, launches, **k: (
        proved.append(launches), VerifyReport("proved"))[1])
    monkeypatch.setattr("tools.profile.profile", lambda *a, **k: type(
        "Profile", (), {"to_dict": lambda self: {"status": "skipped"}})())
    state = {"task_id": "t", "attempt": 0, "max_attempts": 3, "problem_source": "# problem\n",
             "feedback": [], "title": "softmax", "text": "", "search_budget": 4,
             "problem_origin": "softmax"}
    config = {"configurable": {"lab_root": str(tmp_path), "device": "cuda"}}
    state.update(code(state, config))
    assert asked["repeats"] == REPEATS and asked.get("final_check", True)
    assert asked["researchers_problem"] is False
    state.update(verify(state, config))
    assert proved == [record] and not ran  # the search's launches, proved; no second run
    update = measure(state, config)
    assert not ran and update["measurement"]["speedups"][0]["vs_compile"] == 1.2
    # the same checkpoint with another kernel in it (a later attempt's): its own run
    other = {**state, "kernel_source": "# another kernel\n", "attempt": 2}
    verify(other, config)
    assert len(ran) == 1 and ran[0]["record_launches"]


@pytest.mark.parametrize("second, outcome", [("correct", "review"), ("rejected", "code")])
def test_a_kernel_rejected_for_its_timing_alone_is_measured_once_more(
        tmp_path, monkeypatch, second, outcome):
    """A starved host can stretch an honest kernel's wall clock past the harness's check: the
    measure node asks once more, keeps the first verdict in the evidence, and the second
    stands."""
    import tools.bench
    from agents.graph import after_measure, measure
    from tools.bench import BenchReport
    timing = [{"reason": "timing-disagrees", "detail": "the harness watched more"}]
    answers = [BenchReport("rejected", rejections=timing),
               BenchReport(second, rejections=timing if second == "rejected" else [],
                           dynamic_check={"kind": "bounds-checked", "status": "clean"})]
    monkeypatch.setattr(tools.bench, "bench", lambda *f, **k: answers.pop(0))
    monkeypatch.setattr("tools.profile.profile", lambda *a, **k: type(
        "Profile", (), {"to_dict": lambda self: {"status": "skipped"}})())
    state = {"task_id": "t", "attempt": 1, "max_attempts": 3, "problem_source": "# problem\n",
             "kernel_source": "# kernel\n", "feedback": [], "verification": {"status": "proved"}}
    update = measure(state, {"configurable": {"lab_root": str(tmp_path), "device": "cpu"}})
    assert not answers and update["measurement"]["first_rejected"] == timing
    assert update["measurement"]["status"] == second
    assert after_measure({**state, **update}) == outcome
