"""Run untrusted code (agent-written kernels, model-written problems) under bubblewrap.

Each run gets its own user, PID, mount, IPC, UTS and network namespaces (`bwrap
--unshare-all`): a read-only view of the system and the Python installation, the project's
`tools/` package at /autodocket, the files the caller lends it read-only under /inputs, and one
private writable scratch directory at /sandbox (its cwd, HOME and TMPDIR). Nothing else: no
home directory, no project or lab tree, no /run (so no database socket), no parent /proc. The
environment is built from an allowlist. Limits: wall-clock time, memory (address space on the
CPU, resident size on a GPU), size of each file and of the scratch directory in all, and the
number of processes (a pids cgroup where one can be made, else RLIMIT_NPROC where it holds).
The sandbox's PID namespace dies with its first process, so no daemon or child outlives a run,
and `--die-with-parent` ends it when autodocket dies. GPU device nodes are passed through only
for GPU runs.

Where bubblewrap is missing (or cannot make namespaces here) untrusted code is refused, unless
the user asked for `--unsandboxed` (AUTODOCKET_UNSANDBOXED=1): then it runs in a plain child
process with the same environment allowlist and limits, and every report says so.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import resource
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

OUTPUT_LIMIT = 20_000  # characters of stdout/stderr kept
INSIDE_SCRATCH = "/sandbox"
INSIDE_INPUTS = "/inputs"
INSIDE_PROJECT = "/autodocket"
INSIDE_BUILDS = "/builds"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
UNSANDBOXED_ENV = "AUTODOCKET_UNSANDBOXED"

# the environment a sandboxed child may see: these names and families, nothing else
ENV_NAMES = {"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "LD_LIBRARY_PATH", "OMP_NUM_THREADS",
             "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}
ENV_PREFIXES = ("LC_", "CUDA_", "NVIDIA_", "TRITON_", "TORCH_", "PYTORCH_")
# ... and even inside those families, never a name that looks like a credential
_SECRET = re.compile(r"KEY|TOKEN|SECRET|PASS|CREDENTIAL|AUTH|WEBHOOK|COOKIE|SESSION|PRIVATE|"
                     r"DATABASE_URL|_URI$|_DSN$", re.IGNORECASE)
# what a process needs from /etc to start: the loader's cache, users, time zone; no secrets
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "passwd", "group",
             "nsswitch.conf", "localtime", "hosts")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


# for a child that runs torch.compile: Inductor's pool of compile workers takes seconds to
# start in each fresh sandbox, more than a problem's few kernels take to compile on one thread
# (H200 machine: 27 -> 19 s for a softmax's three shapes, 27 -> 15 s for a bias + GELU's two)
SERIAL_INDUCTOR = {"TORCHINDUCTOR_COMPILE_THREADS": "1"}
TRITON_CACHE = ".triton"  # a child's own Triton cache, in its scratch folder (its HOME)


def _builds_dir(kind: str, owner: Path | str) -> Path:
    """The shared build folder of one kind for one file (its content and this torch)."""
    import hashlib
    from importlib.metadata import version

    from tools.cache import cache_path
    key = hashlib.sha256(Path(owner).read_bytes() + version("torch").encode()).hexdigest()
    return cache_path(kind, key)


class SandboxUnavailable(RuntimeError):
    """No sandbox can run here and the user did not ask to run untrusted code without one."""


@dataclass
class SandboxResult:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    killed: str | None  # "timeout" | "memory" | "disk" | "processes" | None
    isolation: list[str] = field(default_factory=list)  # what held this run, in words

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.killed is None

    @property
    def sandboxed(self) -> bool:
        return "bubblewrap" in self.isolation

    def reason(self) -> str:
        if self.killed == "timeout":
            return f"killed: ran past its {self.seconds:.0f} s limit"
        if self.killed == "memory":
            return "killed: went over its memory limit"
        if self.killed == "disk":
            return "killed: wrote more than its scratch directory may hold"
        if self.killed == "processes":
            return "killed: started more processes than it may"
        if self.returncode is not None and self.returncode < 0:
            return f"crashed with signal {signal.Signals(-self.returncode).name}"
        tail = (self.stderr or self.stdout).strip().splitlines()[-1:] or [""]
        return f"exit code {self.returncode}: {tail[0][:300]}"


def allowed_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment cut down to the allowlist, plus the caller's own settings."""
    env = {k: v for k, v in os.environ.items()
           if (k in ENV_NAMES or k.startswith(ENV_PREFIXES)) and not _SECRET.search(k)}
    env.update(extra or {})
    return env


def unsandboxed_allowed() -> bool:
    return os.environ.get(UNSANDBOXED_ENV) == "1"


_bwrap_ok: tuple[str | None, str] | None = None


def bubblewrap() -> tuple[str | None, str]:
    """(path to a working bwrap, "") or (None, why not). Probed once per process."""
    global _bwrap_ok
    if _bwrap_ok is None:
        tool = shutil.which("bwrap")
        if tool is None:
            _bwrap_ok = (None, "bubblewrap (bwrap) is not installed")
        else:
            probe = subprocess.run([tool, "--unshare-all", "--die-with-parent", "--ro-bind",
                                    "/usr", "/usr", *_symlinks_or_binds(), "--proc", "/proc",
                                    "--dev", "/dev", "true"], capture_output=True, text=True,
                                   env=allowed_env(), timeout=60)
            _bwrap_ok = (tool, "") if probe.returncode == 0 else (
                None, "bubblewrap cannot create namespaces here: "
                + (probe.stderr.strip().splitlines() or ["no reason given"])[-1])
    return _bwrap_ok


def _symlinks_or_binds() -> list[str]:
    """/bin, /lib, ...: a symlink into /usr on merged-/usr systems, else a read-only bind."""
    args: list[str] = []
    for path in SYSTEM_DIRS[1:]:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _python_dirs() -> list[str]:
    """The interpreter and its packages, read-only: prefixes and site-packages, never the
    project tree or the working directory (an editable install or `python -m` puts those on
    sys.path; the working directory is the researcher's lab)."""
    prefixes = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    paths = set(prefixes) | {Path(p).resolve() for p in (*site.getsitepackages(), *sys.path) if p}
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        paths.add(Path(site.getusersitepackages()).resolve())
    private = (PROJECT_ROOT, Path.cwd().resolve())
    # the sandbox's own /tmp (a link into its scratch), /sandbox, /inputs and /autodocket: a
    # script run from /tmp or a folder in it puts that on sys.path, and binding it would clash
    # with the link
    reserved = [Path(p) for p in ("/tmp", INSIDE_SCRATCH, INSIDE_INPUTS, INSIDE_PROJECT)]
    keep = []
    for path in paths:
        if not path.is_dir() or path.is_relative_to("/usr") or path == Path("/") or \
                any(path.is_relative_to(r) for r in reserved):
            continue  # /usr is bound whole already
        if path not in prefixes and any(path.is_relative_to(p) or p.is_relative_to(path)
                                        for p in private):
            continue
        keep.append(path)
    # a nested directory is covered by its parent's bind
    return sorted(str(p) for p in keep if not any(p != o and p.is_relative_to(o) for o in keep))


def _use_extension_builds(builds: Path):
    """A shared lock on an extension build folder, held by the (trusted) parent for as long as
    a sandbox may build or load there. torch's cpp_extension guards a build with a `lock` file
    that a build killed half-way (a sandbox's time limit, a stopped run) leaves behind, and
    every later build of that source would then wait on it forever. Whoever finds the folder
    unused (the exclusive lock granted at once) removes such leftovers first."""
    import fcntl
    handle = (builds / ".in-use").open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for stale in builds.glob("*/lock"):
            stale.unlink(missing_ok=True)
    except BlockingIOError:
        pass  # a live sandbox uses the folder: its lock files are real
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def _gpu_devices() -> list[str]:
    return sorted(str(p) for p in Path("/dev").glob("nvidia*"))


# process limits -------------------------------------------------------------------------------
class _PidsCgroup:
    """A pids cgroup for one run, where this machine lets us make one: cgroup v1's pids
    hierarchy, or cgroup v2 where our own group delegates the pids controller."""

    def __init__(self, limit: int):
        self.path: Path | None = None
        for base in self._bases():
            path = base / f"autodocket-{uuid.uuid4().hex[:12]}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(limit))
                self.path = path
                return
            except OSError:
                _rmdir(path)

    @staticmethod
    def _bases() -> list[Path]:
        v1 = Path("/sys/fs/cgroup/pids")
        own = _read(Path("/proc/self/cgroup")).splitlines()
        v2 = next((Path("/sys/fs/cgroup") / line[3:].lstrip("/") for line in own
                   if line.startswith("0::")), None)
        bases = [v1] if (v1 / "pids.max").exists() or (v1 / "cgroup.procs").exists() else []
        if v2 is not None and "pids" in _read(v2 / "cgroup.subtree_control").split():
            bases.append(v2)
        return bases

    def join(self) -> None:  # in the child, before exec
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def hit_limit(self) -> bool:
        """A fork was refused for the limit: the run is trying to start too many."""
        if self.path is None:
            return False
        found = re.search(r"^max (\d+)", _read(self.path / "pids.events"), re.MULTILINE)
        return bool(found) and int(found.group(1)) > 0

    def close(self) -> None:
        if self.path is None:
            return
        procs = self.path / "cgroup.procs"
        for _ in range(100):  # the PID namespace dies with bwrap; the kernel needs a moment
            pids = _read(procs).split()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            time.sleep(0.02)
        _rmdir(self.path)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _rmdir(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


def _preexec(memory_bytes: int | None, file_bytes: int, processes: int, cgroup: _PidsCgroup):
    def apply():
        os.setsid()  # the whole group can be killed at once
        cgroup.join()

        def cap(kind, value):  # never above the hard limit this process was given (ulimit)
            soft, hard = resource.getrlimit(kind)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(kind, (value, hard))

        if memory_bytes:
            cap(resource.RLIMIT_AS, memory_bytes)
        cap(resource.RLIMIT_FSIZE, file_bytes)
        cap(resource.RLIMIT_CORE, 0)
        if cgroup.path is None and os.getuid() != 0:  # root is exempt from RLIMIT_NPROC
            cap(resource.RLIMIT_NPROC, processes + _own_process_count())
    return apply


def _own_process_count() -> int:
    uid, count = os.getuid(), 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"Uid:\t{uid}\t" in status.read_text():
                count += int(_read(status.parent / "status").split("Threads:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return count


def _tree(root: int) -> list[int]:
    """`root` and all its descendants (the sandboxed processes sit below bwrap)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in _read(Path(f"/proc/{pid}/status")).splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def _disk_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


# the sandbox ----------------------------------------------------------------------------------
class Sandbox:
    """One run of untrusted Python. Lend it files read-only, then `run` or `start` it.

        box = Sandbox(timeout=60)
        kernel = box.lend(path)                     # the path the child sees it under
        result = box.run(["-m", "tools.bench.candidate", kernel])
        box.scratch / "out.pt"                      # what it wrote, read as data only
    """

    def __init__(self, *, timeout: float, memory_gb: float = 8, gpu: bool = False,
                 network: bool = False, env: dict[str, str] | None = None,
                 scratch: Path | None = None, disk_gb: float = 4, processes: int = 512,
                 file_gb: float | None = None):
        self.timeout, self.memory_bytes = timeout, int(memory_gb * 2**30)
        self.gpu, self.network, self.env = gpu, network, dict(env or {})
        self.disk_bytes, self.processes = int(disk_gb * 2**30), processes
        self.file_bytes = int((file_gb or min(disk_gb, 2)) * 2**30)
        self.scratch = Path(scratch or tempfile.mkdtemp(prefix="autodocket-sandbox-"))
        (self.scratch / "tmp").mkdir(parents=True, exist_ok=True)
        self.lent: dict[str, Path] = {}
        self.builds: Path | None = None  # a writable folder shared by one file's runs
        self._builds_in_use = None  # this sandbox's shared lock on an extension build folder
        self.bwrap, why = bubblewrap()
        if self.bwrap is None and not unsandboxed_allowed():
            raise SandboxUnavailable(f"{why}: untrusted code is refused. Install bubblewrap "
                                     "(Debian: apt-get install bubblewrap), or pass "
                                     "--unsandboxed to run it without a sandbox")
        self.why_unsandboxed = why

    def lend(self, path: Path | str, name: str | None = None) -> str:
        """Make a file or folder readable inside; returns the path the child uses."""
        path = Path(path).resolve()
        name = name or path.name
        if "/" in name or name in self.lent:
            raise ValueError(f"cannot lend {name!r} twice or under a nested name")
        self.lent[name] = path
        return f"{INSIDE_INPUTS}/{name}" if self.bwrap else str(path)

    def cache_extensions_of(self, kernel: Path | str) -> None:
        """A candidate that builds C++/CUDA (torch's cpp_extension) keeps its build in a
        folder of its own, keyed by the kernel file's content: its other processes (the
        harness's trials, the sanitizer, the profile) load the build instead of running nvcc
        again. Writable by that kernel's sandboxes only; no other candidate and no reference
        ever sees it."""
        from tools.bench.static import builds_extension
        if builds_extension(Path(kernel).read_text(errors="replace")):
            self._share_builds("extensions", kernel, {"TORCH_EXTENSIONS_DIR": ""})
            self._builds_in_use = _use_extension_builds(self.builds)

    def cache_compiles_of(self, problem: Path | str) -> None:
        """A reference keeps torch.compile's caches (Inductor's graphs and autotuning, the
        Triton kernels) in a folder keyed by the problem file's content: the next run of the
        same problem (another attempt, another candidate of the search) compiles its baseline
        from there, as torch's own caches would between runs on a researcher's machine. Only
        that problem's reference runs see it; no candidate ever does."""
        self._share_builds("compiles", problem, {"TORCHINDUCTOR_CACHE_DIR": "inductor",
                                                 "TRITON_CACHE_DIR": "triton"})

    def cache_screen_compiles_of(self, problem: Path | str) -> None:
        """The screen (autodocket's own candidates only) keeps the Triton kernels it compiles
        in a folder keyed by the problem file's content, for `borrow_screen_compiles`."""
        self._share_builds("screen-compiles", problem, {"TRITON_CACHE_DIR": "triton"})

    def borrow_screen_compiles(self, problem: Path | str) -> None:
        """A copy of the Triton kernels the problem's screens compiled, as this sandbox's own
        Triton cache: the configuration the screen ranked first loads its kernels instead of
        compiling them again while its process holds the card. A copy: what runs here changes
        only its own, and nothing of it goes back. What wrote it: autodocket's templates, the
        compiler seed and the problem's own code, which runs in the candidate's process too
        (its inputs are drawn there); never a candidate."""
        source = _builds_dir("screen-compiles", problem) / "triton"
        if source.is_dir():
            try:
                shutil.copytree(source, self.scratch / TRITON_CACHE, dirs_exist_ok=True)
            except (OSError, shutil.Error):
                pass  # a cache: without it the kernels compile

    def _share_builds(self, kind: str, owner: Path | str, env: dict[str, str]) -> None:
        self.builds = _builds_dir(kind, owner)
        self.builds.mkdir(parents=True, exist_ok=True)
        inside = INSIDE_BUILDS if self.bwrap else str(self.builds)
        self.env.update({name: f"{inside}/{sub}".rstrip("/") for name, sub in env.items()})

    @property
    def inside_scratch(self) -> str:
        return INSIDE_SCRATCH if self.bwrap else str(self.scratch)

    def _env(self) -> dict[str, str]:
        home = self.inside_scratch
        # the project's tools, then the packages the parent was given on PYTHONPATH (bound
        # read-only by _python_dirs; the project tree and the lab are not)
        extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                 if p and any(Path(p).resolve().is_relative_to(d) for d in _python_dirs())]
        own = INSIDE_PROJECT if self.bwrap else str(PROJECT_ROOT)
        return allowed_env({"PYTHONPATH": os.pathsep.join([own, *extra]),
                            "HOME": home, "TMPDIR": f"{home}/tmp",
                            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
                            "TRITON_CACHE_DIR": f"{home}/{TRITON_CACHE}", **self.env})

    def command(self, args: list[str], prefix: list[str] | None = None) -> list[str]:
        cmd = [*(prefix or []), sys.executable, *args]
        if not self.bwrap:
            return cmd
        wrap = [self.bwrap, "--unshare-all", *(["--share-net"] if self.network else []),
                "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
                "--ro-bind", "/usr", "/usr", *_symlinks_or_binds()]
        for name in ETC_FILES:
            wrap += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        for path in _python_dirs():
            wrap += ["--ro-bind", path, path]
        wrap += ["--ro-bind", str(PROJECT_ROOT / "tools"), f"{INSIDE_PROJECT}/tools",
                 "--proc", "/proc", "--dev", "/dev"]
        if self.gpu:  # the device nodes; /sys and /opt for the driver's and Nsight's files
            for node in _gpu_devices():
                wrap += ["--dev-bind", node, node]
            wrap += ["--ro-bind", "/sys", "/sys", "--ro-bind-try", "/opt", "/opt"]
        for name, path in self.lent.items():
            wrap += ["--ro-bind", str(path), f"{INSIDE_INPUTS}/{name}"]
        if self.builds is not None:
            wrap += ["--bind", str(self.builds), INSIDE_BUILDS]
        wrap += ["--bind", str(self.scratch), INSIDE_SCRATCH, "--symlink",
                 f"{INSIDE_SCRATCH}/tmp", "/tmp", "--remount-ro", "/", "--chdir", INSIDE_SCRATCH]
        for key, value in self._env().items():
            wrap += ["--setenv", key, value]
        return [*wrap, "--", *cmd]

    def isolation(self) -> list[str]:
        if not self.bwrap:
            return [f"UNSANDBOXED (--unsandboxed; {self.why_unsandboxed}): a plain child "
                    "process with an allowlisted environment and limits"]
        return ["bubblewrap", "own user, PID, mount, IPC and network namespaces"
                if not self.network else "own user, PID, mount and IPC namespaces; "
                "network shared (the profiler needs loopback)"]

    def start(self, args: list[str], prefix: list[str] | None = None,
              interactive: bool = False) -> "Running":
        return Running(self, self.command(args, prefix), interactive)

    def run(self, args: list[str], prefix: list[str] | None = None) -> SandboxResult:
        return self.start(args, prefix).wait()

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self._builds_in_use is not None:
            self._builds_in_use.close()
            self._builds_in_use = None


class Running:
    """A started sandbox. With `interactive`, `send(line)` writes to its stdin and
    `read_line()` returns its next stdout line (the harness's request/answer protocol).
    `wait()` ends it; the watcher kills it at its limits."""

    STDOUT_KEEP = 50 * 2**20  # characters of stdout held for the protocol, at most

    def __init__(self, box: Sandbox, cmd: list[str], interactive: bool):
        self.box = box
        self.cgroup = _PidsCgroup(box.processes)
        self.killed: list[str] = []
        self.start_time = time.monotonic()
        self.deadline = self.start_time + box.timeout
        memory = None if box.gpu else box.memory_bytes  # CUDA reserves huge address ranges
        self.proc = subprocess.Popen(
            cmd, cwd=box.scratch, env=box._env(), text=True, errors="replace",
            stdin=subprocess.PIPE if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=_preexec(memory, box.file_bytes, box.processes, self.cgroup))
        self.out: list[str] = []
        self.err: list[str] = []
        self.eof = False
        self._next = 0
        self._cond = threading.Condition()
        self._pumps = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.out),
                                        daemon=True),
                       threading.Thread(target=self._pump, args=(self.proc.stderr, self.err),
                                        daemon=True)]
        for thread in self._pumps:
            thread.start()
        threading.Thread(target=self._watch, daemon=True).start()

    def _pump(self, stream, sink: list[str]) -> None:
        size, limit = 0, self.STDOUT_KEEP if sink is self.out else 4 * OUTPUT_LIMIT
        for line in stream:
            size += len(line)
            with self._cond:
                if size < limit:
                    sink.append(line)
                self._cond.notify_all()
        with self._cond:
            if sink is self.out:
                self.eof = True
            self._cond.notify_all()

    def _watch(self) -> None:
        """Time, memory (a GPU run's resident size), scratch size and process count."""
        while self.proc.poll() is None:
            why = None
            if time.monotonic() > self.deadline:
                why = "timeout"
            elif self.box.gpu and _rss_bytes(_tree(self.proc.pid)) > self.box.memory_bytes:
                why = "memory"
            elif _disk_bytes(self.box.scratch) > self.box.disk_bytes:
                why = "disk"
            elif self.cgroup.hit_limit():
                why = "processes"
            if why:
                self.killed.append(why)
                self.kill()
                return
            time.sleep(0.05)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def send(self, line: str) -> None:
        try:
            self.proc.stdin.write(line.rstrip("\n") + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it has ended: the next read_line says so

    def read_line(self, prefix: str = "") -> str | None:
        """The child's next stdout line starting with `prefix` (others are skipped), or None
        once it has closed its output or its time is up."""
        with self._cond:
            while True:
                while self._next < len(self.out):
                    line = self.out[self._next]
                    self._next += 1
                    if line.startswith(prefix):
                        return line.rstrip("\n")
                if self.eof or time.monotonic() > self.deadline + 1:
                    return None
                self._cond.wait(timeout=0.1)

    def wait(self) -> SandboxResult:
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=max(0.0, self.deadline - time.monotonic()) + 2)
        except subprocess.TimeoutExpired:
            self.killed.append("timeout")
            self.kill()
            self.proc.wait()
        self.kill()  # anything left in its process group
        for thread in self._pumps:
            thread.join(timeout=5)
        self.cgroup.close()
        seconds = time.monotonic() - self.start_time
        killed = self.killed[0] if self.killed else None
        err = "".join(self.err)
        if killed is None and self.proc.returncode != 0 and "MemoryError" in err[-2000:]:
            killed = "memory"
        limits = (f"at most {self.box.processes} processes (pids cgroup)" if self.cgroup.path
                  else f"at most {self.box.processes} more processes (RLIMIT_NPROC)"
                  if os.getuid() != 0 else "no process-count limit (root, no pids cgroup here)")
        code = self.proc.returncode
        if self.box.bwrap and code is not None and 128 < code <= 128 + 64:
            code = 128 - code  # bwrap reports a child killed by signal N as 128 + N
        return SandboxResult(code, _truncate("".join(self.out)),
                             _truncate(err), self.box.timeout if killed == "timeout"
                             else seconds, killed, self.box.isolation() + [limits])


def _truncate(text: str | None) -> str:
    text = text or ""
    if len(text) <= OUTPUT_LIMIT:
        return text
    half = OUTPUT_LIMIT // 2
    return text[:half] + f"\n... [{len(text) - OUTPUT_LIMIT} characters cut] ...\n" + text[-half:]


# a warm interpreter for autodocket's own analyses ---------------------------------------------
class Zygote:
    """A sandboxed `tools.zygote` process that has imported torch, triton and z3 once and forks
    a child per job. Only for autodocket's own code (the verifier's analysis, which reads what
    a candidate's sandbox wrote as data): untrusted code always gets a fresh sandbox, so
    nothing it leaves behind can reach a later run. Jobs get a folder under the zygote's
    scratch; the caller reads its files and removes it (`job_dir`, `finish`)."""

    def __init__(self, memory_gb: float = 8):
        self.box = Sandbox(timeout=30 * 24 * 3600, memory_gb=memory_gb, disk_gb=8)
        self.running = self.box.start(["-m", "tools.zygote"], interactive=True)
        if self.running.read_line("{") is None:
            result = self.running.wait()
            self.box.close()
            raise RuntimeError("the analysis zygote did not start: " + result.reason())
        self.lock = threading.Lock()
        self.jobs = 0

    def alive(self) -> bool:
        return self.running.proc.poll() is None

    def run(self, module: str, argv: list[str], files: dict[str, bytes], timeout: float,
            memory_gb: float = 8) -> tuple[SandboxResult, Path]:
        """Run `module` with `files` in a fresh job folder; `{job}` in argv is the folder as
        the job sees it. Returns the result and the folder on this side."""
        with self.lock:
            self.jobs += 1
            name = f"job-{self.jobs}"
            folder = self.box.scratch / name
            folder.mkdir()
            for rel, data in files.items():
                (folder / rel).write_bytes(data)
            inside = f"{self.box.inside_scratch}/{name}"
            job = {"module": module, "argv": [a.replace("{job}", inside) for a in argv],
                   "cwd": inside, "timeout": timeout, "memory_bytes": int(memory_gb * 2**30),
                   "env": {"HOME": inside, "TMPDIR": inside}}
            start = time.monotonic()
            self.running.send(json.dumps(job))
            line = self.running.read_line("{")
        if line is None:
            raise RuntimeError("the analysis zygote ended")
        answer = json.loads(line)
        read = lambda n: (folder / n).read_text(errors="replace") if (folder / n).is_file() \
            else ""
        return SandboxResult(answer["returncode"], _truncate(read("stdout.txt")),
                             _truncate(read("stderr.txt")), time.monotonic() - start,
                             answer["killed"], self.box.isolation()), folder

    @staticmethod
    def finish(folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        self.running.kill()
        self.running.wait()
        self.box.close()


_zygote: Zygote | None = None
_zygote_lock = threading.Lock()


def zygote() -> Zygote:
    """This process's analysis zygote, started on first use (and again if it died)."""
    global _zygote
    with _zygote_lock:
        if _zygote is None or not _zygote.alive():
            _zygote = Zygote()
            atexit.register(_zygote.close)
        return _zygote
