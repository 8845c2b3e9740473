"""Run untrusted code (agent-written kernels, planner problems) in a child process.

The child gets its own scratch directory as working directory, an environment without
credentials, a wall-clock limit (the whole process group is killed), a memory limit, captured
and truncated output, and no network where the machine allows a new network namespace.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

OUTPUT_LIMIT = 20_000  # characters of stdout/stderr kept
_SECRET = re.compile(r"(_API_KEY|_TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_KEY_ID|ACCESS_KEY|"
                     r"SESSION_KEY|PRIVATE_KEY|^AWS_|^AZURE_|^GOOGLE_APPLICATION|^GCP_|^HF_TOKEN|"
                     r"^GH_|^GITHUB_|^OPENAI|^ANTHROPIC|^DEEPSEEK|^LITELLM|DATABASE_URL)",
                     re.IGNORECASE)


@dataclass
class SandboxResult:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    killed: str | None  # "timeout" | "memory" | None
    network_isolated: bool

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.killed is None

    def reason(self) -> str:
        if self.killed == "timeout":
            return f"killed: ran past its {self.seconds:.0f} s limit"
        if self.killed == "memory":
            return "killed: went over its memory limit"
        if self.returncode is not None and self.returncode < 0:
            return f"crashed with signal {signal.Signals(-self.returncode).name}"
        tail = (self.stderr or self.stdout).strip().splitlines()[-1:] or [""]
        return f"exit code {self.returncode}: {tail[0][:300]}"


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _SECRET.search(k)}
    env.update(extra or {})
    return env


_netns_ok: bool | None = None


def _can_unshare_net() -> bool:
    global _netns_ok
    if _netns_ok is None:
        tool = shutil.which("unshare")
        _netns_ok = bool(tool) and subprocess.run(
            [tool, "--net", "true"], capture_output=True).returncode == 0
    return _netns_ok


def _limits(memory_bytes: int | None):
    def apply():
        os.setsid()
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _command(args: list[str], network: bool, prefix: list[str] | None = None
             ) -> tuple[list[str], bool]:
    cmd = [*(prefix or []), sys.executable, *args]
    if not network and _can_unshare_net():
        return [shutil.which("unshare"), "--net", *cmd], True
    return cmd, False


def _child_env(scratch: Path, extra: dict[str, str] | None) -> dict[str, str]:
    project_root = Path(__file__).resolve().parent.parent
    pythonpath = os.pathsep.join(p for p in (str(project_root), os.environ.get("PYTHONPATH"))
                                 if p)
    return clean_env({"PYTHONPATH": pythonpath, "HOME": str(scratch), "TMPDIR": str(scratch),
                      "PYTHONDONTWRITEBYTECODE": "1", "TRITON_CACHE_DIR": str(scratch / ".triton"),
                      "LITELLM_LOCAL_MODEL_COST_MAP": "True", **(extra or {})})


class _Zygote:
    """The running `tools.zygote` process of this interpreter, started on first use."""

    def __init__(self):
        self.home = Path(tempfile.mkdtemp(prefix="autodocket-zygote-"))
        cmd, self.isolated = _command(["-m", "tools.zygote"], network=False)
        self.proc = subprocess.Popen(cmd, cwd=self.home, env=_child_env(self.home, None),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True,
                                     preexec_fn=_limits(None))
        ready = self.proc.stdout.readline()
        if not ready.strip().startswith("{"):
            raise RuntimeError("zygote did not start")
        self.lock = threading.Lock()

    def run(self, module: str, argv: list[str], scratch: Path, timeout: float,
            memory_bytes: int, env: dict[str, str]) -> SandboxResult:
        job = {"module": module, "argv": argv, "cwd": str(scratch), "timeout": timeout,
               "memory_bytes": memory_bytes,
               "env": {"HOME": str(scratch), "TMPDIR": str(scratch), **env}}
        with self.lock:
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
            answer = json.loads(self.proc.stdout.readline())
        read = lambda name: (scratch / name).read_text(errors="replace") \
            if (scratch / name).exists() else ""
        return SandboxResult(answer["returncode"], _truncate(read("stdout.txt")),
                             _truncate(read("stderr.txt")), answer["seconds"], answer["killed"],
                             self.isolated)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        shutil.rmtree(self.home, ignore_errors=True)


_zygote: _Zygote | None = None
_zygote_lock = threading.Lock()


def run_module_reused(module: str, argv: list[str], *, timeout: float, memory_gb: float = 8,
                      scratch: Path, env: dict[str, str] | None = None) -> SandboxResult:
    """Like `run_python(["-m", module, *argv])`, but forked from a zygote that has imported
    torch, triton and z3 already (CPU work only: a forked CUDA context is unusable). Falls
    back to a fresh process if no zygote can run."""
    global _zygote
    with _zygote_lock:
        if _zygote is None or _zygote.proc.poll() is not None:
            try:
                _zygote = _Zygote()
                atexit.register(_zygote.close)
            except (OSError, RuntimeError):
                _zygote = None
    if _zygote is None:
        return run_python(["-m", module, *argv], timeout=timeout, memory_gb=memory_gb,
                          scratch=scratch, env=env)
    try:
        return _zygote.run(module, argv, scratch, timeout, int(memory_gb * 2**30), env or {})
    except (OSError, ValueError):
        _zygote.close()
        return run_python(["-m", module, *argv], timeout=timeout, memory_gb=memory_gb,
                          scratch=scratch, env=env)


def run_python(args: list[str], *, timeout: float, memory_gb: float = 8, gpu: bool = False,
               env: dict[str, str] | None = None, network: bool = False,
               scratch: Path | None = None, prefix: list[str] | None = None) -> SandboxResult:
    """Run `python ARGS...` sandboxed (`PREFIX... python ARGS...` with a prefix, e.g. a
    profiler). On a GPU the address-space limit would break CUDA's reservations, so memory is
    watched (resident size) and the process killed instead."""
    own_scratch = scratch is None
    scratch = Path(scratch or tempfile.mkdtemp(prefix="autodocket-sandbox-"))
    child_env = _child_env(scratch, env)
    cmd, isolated = _command(args, network, prefix)
    limit = int(memory_gb * 2**30)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=scratch, env=child_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            preexec_fn=_limits(None if gpu else limit))
    killed: list[str] = []

    def watch_memory():
        while proc.poll() is None:
            if _rss_bytes(proc.pid) > limit:
                killed.append("memory")
                _kill_group(proc)
                return
            time.sleep(0.2)

    if gpu:
        threading.Thread(target=watch_memory, daemon=True).start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        killed.append("timeout")
        _kill_group(proc)
        out, err = proc.communicate()
    seconds = time.monotonic() - start
    if own_scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    if not killed and proc.returncode != 0 and "MemoryError" in (err or "")[-2000:]:
        killed.append("memory")
    return SandboxResult(proc.returncode, _truncate(out), _truncate(err),
                         timeout if killed == ["timeout"] else seconds,
                         killed[0] if killed else None, isolated)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _truncate(text: str | None) -> str:
    text = text or ""
    if len(text) <= OUTPUT_LIMIT:
        return text
    half = OUTPUT_LIMIT // 2
    return text[:half] + f"\n... [{len(text) - OUTPUT_LIMIT} characters cut] ...\n" + text[-half:]
