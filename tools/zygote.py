"""A sandboxed process that has imported torch, triton and z3 once and forks one child per job.

Importing torch costs seconds; a verifier's analysis often a tenth of that. The zygote runs in
a sandbox of its own (`tools.sandbox.Zygote`) and only ever runs autodocket's own modules on
data: a candidate's code never runs in it. Each job's child takes its own folder, memory limit
and arguments, runs a module's `main()`, and exits. The zygote kills a child that overruns.

Protocol, one JSON object per line: the parent writes
    {"module": "tools.verify.worker", "argv": [...], "cwd": "/tmp/x", "timeout": 60,
     "memory_bytes": 8589934592, "env": {...}}
and reads back {"returncode": int | null, "killed": "timeout" | null, "seconds": float}.
"""
from __future__ import annotations

import json
import os
import resource
import runpy
import signal
import sys
import time

PRELOAD = ("torch", "triton", "z3")


def _child(job: dict) -> None:
    os.setsid()
    os.chdir(job["cwd"])
    os.environ.update(job.get("env", {}))
    if job.get("memory_bytes"):
        resource.setrlimit(resource.RLIMIT_AS, (job["memory_bytes"], job["memory_bytes"]))
    out = os.open(os.path.join(job["cwd"], "stdout.txt"), os.O_WRONLY | os.O_CREAT, 0o600)
    err = os.open(os.path.join(job["cwd"], "stderr.txt"), os.O_WRONLY | os.O_CREAT, 0o600)
    os.dup2(out, 1)
    os.dup2(err, 2)
    sys.argv = [job["module"], *job["argv"]]
    code = 0
    try:
        runpy.run_module(job["module"], run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _wait(pid: int, timeout: float) -> tuple[int | None, str | None]:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), None
        if time.monotonic() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return None, "timeout"
        time.sleep(0.005)


def main() -> None:
    for name in PRELOAD:
        __import__(name)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(job)
        code, killed = _wait(pid, job["timeout"])
        print(json.dumps({"returncode": code, "killed": killed,
                          "seconds": time.monotonic() - start}), flush=True)


if __name__ == "__main__":
    main()
