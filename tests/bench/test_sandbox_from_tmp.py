"""A researcher's script run from a folder under /tmp (which puts that folder on sys.path) can
still start sandboxes: the sandbox's own /tmp is a link into its scratch, and binding the
script's folder there once made bubblewrap fail ("Can't make symlink at /tmp")."""
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = ("from tools.sandbox import Sandbox\n"
          "box = Sandbox(timeout=60)\n"
          "run = box.run(['-c', 'print(6 * 7)'])\n"
          "box.close()\n"
          "print(run.ok, run.stdout.strip(), run.reason())\n")


def test_a_script_in_a_folder_under_tmp_starts_a_sandbox():
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        script = Path(folder) / "probe.py"
        script.write_text(SCRIPT)
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                             timeout=120, cwd=Path(__file__).parents[2])
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[:2] == ["True", "42"], run.stdout
