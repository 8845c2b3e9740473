"""The lab page, driven in headless Chromium against the real app: list the pull requests,
open one (its chart, its diff), approve one (its docket line ticked on main, as the CLI does),
reject one with a reason; a request without the page's form token is refused; a docket the
parser cannot read shows its one-line error and is left byte for byte.

Needs Debian's `chromium` and `chromium-driver` (scripts/test.sh installs them); without them
these tests skip, unless AUTODOCKET_REQUIRE_BROWSER=1 (CI) makes that a failure. Screenshots
go to $AUTODOCKET_SCREENSHOTS (docs/ for the README), else to the test's temporary folder.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.loop.test_loop import cli, make_lab

ROOT = Path(__file__).resolve().parents[2]
GPU_EVIDENCE = ROOT / "benchmarks/measured/h200-loop-faithful/fused-row-softmax.evidence.json"
GPU_TASK = "h200-row-softmax"  # a branch holding the H200 run's record: a chart to show
cpu_tasks_before: list[str] = []  # the CPU run's pull requests, before any was decided


def _browser_missing() -> str | None:
    for tool in ("chromium", "chromedriver"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install chromium chromium-driver)"
    return None


if (why := _browser_missing()) and os.environ.get("AUTODOCKET_REQUIRE_BROWSER") != "1":
    pytest.skip(why, allow_module_level=True)


def git(lab: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(lab), *args], check=True, capture_output=True,
                          text=True).stdout


def add_gpu_branch(lab: Path) -> None:
    """An agent branch whose record came from the H200 (timing, so a speedup chart)."""
    from agents.report import report_markdown, speedup_chart
    ev = json.loads(GPU_EVIDENCE.read_text())
    ev["task"] = {**ev["task"], "id": GPU_TASK}
    folder = Path(git(lab, "rev-parse", "--show-toplevel").strip()) / ".." / "gpu-branch"
    git(lab, "worktree", "add", "-q", "-b", f"autodocket/{GPU_TASK}", str(folder), "main")
    rid = folder / "results" / GPU_TASK
    rid.mkdir(parents=True)
    (rid / "evidence.json").write_text(json.dumps(ev, indent=2))
    (rid / "speedup.png").write_bytes(speedup_chart(ev["timing"]))
    (rid / "REPORT.md").write_text(report_markdown(ev, has_chart=True))
    (rid / "problem.py").write_text((ROOT / "kernels/problems/softmax.py").read_text())
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@e.invalid", "commit", "-q", "-m", "h200")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """The app served by uvicorn in a thread, on a free loopback port."""

    def __init__(self, docket: Path):
        import uvicorn

        from agents.web import create_app
        self.app = create_app(docket)
        self.url = f"http://127.0.0.1:{free_port()}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1",
                                                    port=int(self.url.rsplit(":", 1)[1]),
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started and time.time() < deadline:
            time.sleep(0.05)
        assert self.server.started, "the lab page did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = make_lab(tmp_path_factory.mktemp("web"))
    result = cli(lab, "run", "--max-tasks", "2", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    add_gpu_branch(lab)
    cpu_tasks_before[:] = cpu_tasks(lab)
    return lab


@pytest.fixture(scope="module")
def page(lab):
    served = Page(lab / "DOCKET.md")
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1100"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("AUTODOCKET_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cpu_tasks(lab: Path) -> list[str]:
    return sorted(b.strip().removeprefix("autodocket/") for b in
                  git(lab, "branch", "--list", "autodocket/*", "--format=%(refname:short)")
                  .splitlines() if b.strip() != f"autodocket/{GPU_TASK}")


def test_list_and_open_a_pull_request_with_its_chart_and_diff(lab, page, browser, shots):
    from selenium.webdriver.common.by import By
    browser.get(page.url + "/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#prs tr")[1:]
    assert len(rows) == 3, [r.text for r in rows]
    assert any("NVIDIA H200" in r.text and "1.37x" in r.text for r in rows)
    browser.find_element(By.LINK_TEXT, GPU_TASK).click()
    assert browser.current_url.endswith(f"/prs/{GPU_TASK}/")
    chart = browser.find_element(By.CSS_SELECTOR, "#report img")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth",
                                  chart) > 100  # the PNG loaded and decoded
    diff = browser.find_element(By.ID, "diff").text
    assert f"+++ b/results/{GPU_TASK}/evidence.json" in diff
    assert "(dissent)" in browser.find_element(By.ID, "council").text  # the performance seat
    assert "not met" in browser.find_element(By.ID, "criteria").text
    assert "def forward" in browser.find_element(By.ID, "problem").text
    # down to the chart: the report's first tables and the speedup chart in one picture
    browser.set_window_size(1400, chart.location["y"] + chart.size["height"] + 300)
    browser.save_screenshot(str(shots / "lab-page-pull-request.png"))
    browser.set_window_size(1400, 1100)


def test_approve_ticks_the_docket_line_on_main(lab, page, browser):
    import docket as docket_mod
    from selenium.webdriver.common.by import By
    task = cpu_tasks_before[0]
    browser.get(f"{page.url}/prs/{task}/")
    assert "No speedup chart" in browser.find_element(By.ID, "no-chart").text  # CPU: no timing
    browser.find_element(By.ID, "approve").click()
    message = browser.find_element(By.ID, "message").text
    assert message.startswith(f"approved {task}:"), message
    on_main = docket_mod.parse(git(lab, "show", "main:DOCKET.md"))
    assert on_main.task(task).checked
    assert f"autodocket/{task}" not in git(lab, "branch", "--list", f"autodocket/{task}")


def test_knowledge_search_and_an_entity_with_its_provenance(lab, page, browser):
    """The approved task's facts: found by a search, its entity page, and a fact's provenance
    link opening the evidence file at the commit it came from."""
    from selenium.webdriver.common.by import By
    approved = cpu_tasks_before[0]
    browser.get(page.url + "/kg")
    browser.find_element(By.ID, "q").send_keys(approved.split("-")[-1] + "\n")
    facts = browser.find_elements(By.CSS_SELECTOR, "#facts tr")[1:]
    assert any(approved in f.text for f in facts), [f.text for f in facts]
    browser.find_element(By.LINK_TEXT, f"task:{approved}").click()
    provenance = browser.find_elements(By.CSS_SELECTOR, "a[href^='/files/']")
    assert provenance, browser.find_element(By.TAG_NAME, "main").text
    provenance[0].click()
    assert f'"id": "{approved}"' in browser.find_element(By.TAG_NAME, "main").text


def test_reject_sends_the_reason_back(lab, page, browser):
    from selenium.webdriver.common.by import By

    from agents.config import find_lab
    task = cpu_tasks_before[-1]
    browser.get(f"{page.url}/prs/{task}/")
    browser.find_element(By.ID, "reason").send_keys("the tail block is not timed")
    browser.find_element(By.ID, "reject").click()
    assert browser.find_element(By.ID, "message").text.startswith(f"rejected {task}:")
    row = find_lab(lab / "DOCKET.md").store().all()[task]
    assert row.status != "awaiting-review"
    assert "the tail block is not timed" in (row.reason or "")


def test_a_post_without_the_form_token_is_refused(lab, page):
    task = GPU_TASK
    before = git(lab, "rev-parse", "main")
    for form in ({}, {"form_token": "guessed"}):
        request = urllib.request.Request(f"{page.url}/prs/{task}/approve", method="POST",
                                         data=urllib.parse.urlencode(form).encode())
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 403
    assert git(lab, "rev-parse", "main") == before


def test_a_page_served_beyond_loopback_needs_its_access_token(lab):
    from starlette.testclient import TestClient

    from agents.web import create_app
    client = TestClient(create_app(lab / "DOCKET.md", token="s3cret"))
    assert client.get("/prs").status_code == 401
    assert client.get("/prs?token=wrong").status_code == 401
    assert client.get("/prs?token=s3cret").status_code == 200
    assert client.get("/docket").status_code == 200  # the cookie the first visit set


def test_the_docket_page_shows_statuses_and_live_workers(lab, page, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from agents.config import find_lab
    from memory.db import make_engine
    from memory.leases import Leases
    found = find_lab(lab / "DOCKET.md")
    leases = Leases(make_engine(found.database_url), found.docket_key)
    leases.register("w-test", "cuda:0")
    leases.beat("w-test", state="working", task_id="rmsnorm-with-residual", stage="measure")
    browser.get(page.url + "/docket")
    rows = {r.text.split()[0]: r for r in browser.find_elements(By.CSS_SELECTOR, "#tasks tr")[1:]}
    assert "proactive-discord-alerts open" in rows["11"].text  # never run (--max-tasks 2)
    approved = cpu_tasks_before[0]  # the approve test ran first: done, with its evidence
    [done] = [r for r in rows.values() if approved in r.text]
    assert "done" in done.text
    WebDriverWait(browser, 10).until(
        lambda b: "rmsnorm-with-residual · measure" in b.find_element(By.ID, "workers").text)
    browser.save_screenshot(str(shots / "lab-page-docket.png"))
    done.find_element(By.CSS_SELECTOR, "a.evidence").click()
    assert f'"id": "{approved}"' in browser.find_element(By.TAG_NAME, "main").text
    leases.beat("w-test", state="stopped")


def test_a_lab_without_a_commit_yet_shows_empty_pages(tmp_path):
    """A docket in a repository with no commit: no pull request, every task open, no error."""
    from starlette.testclient import TestClient

    from agents.web import create_app
    (tmp_path / "DOCKET.md").write_bytes((ROOT / "examples/lab/DOCKET.md").read_bytes())
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    client = TestClient(create_app(tmp_path / "DOCKET.md"))
    assert "0 agent pull requests" in client.get("/prs").text
    docket = client.get("/docket")
    assert docket.status_code == 200 and "proactive-discord-alerts" in docket.text


def test_a_docket_the_parser_cannot_read_is_shown_and_left_as_it_is(tmp_path, browser):
    from selenium.webdriver.common.by import By
    lab = make_lab(tmp_path)
    broken = (lab / "DOCKET.md").read_bytes() + b"- [ ] **Broken**: \x00 a NUL byte\n"
    (lab / "DOCKET.md").write_bytes(broken)
    served = Page(lab / "DOCKET.md")
    try:
        browser.get(served.url + "/docket")
        error = browser.find_element(By.ID, "docket-error").text
        assert "NUL byte" in error and "\n" not in error
    finally:
        served.stop()
    assert (lab / "DOCKET.md").read_bytes() == broken
