"""Faults of what a run depends on: a full disk while the outputs are written, a run
directory that cannot be made or used, are one line naming the file and the fix, exit code
2, and nothing half-written is left behind."""

import subprocess
import sys

import pytest
from conftest import REPO

#: ``taskdeck.io`` on a disk with no space left: every write of an output fails with ENOSPC.
FULL_DISK = """
import errno, os, sys
from taskdeck import io

class Refusing:
    def __init__(self, f): self.f = f
    def __enter__(self): return self
    def __exit__(self, *exc): self.f.close()
    def write(self, data): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

class FullDisk:
    def __getattr__(self, name): return getattr(os, name)
    def fdopen(self, fd, *args, **kwargs): return Refusing(os.fdopen(fd, *args, **kwargs))

io.os = FullDisk()
from taskdeck.app import main
main(sys.argv[1:])
"""


def test_a_full_disk_while_writing_outputs_is_one_line_and_leaves_nothing_half_written(tmp_path):
    run_dir = tmp_path / "run"
    args = ["task=tokenize", "text=hello world", "model=smollm2-135m", "quiet=true", f"hydra.run.dir={run_dir}"]
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, *args], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: cannot write {run_dir}"), err
    assert "no space left on the device: free space there, or write elsewhere with hydra.run.dir=" in err[0]
    assert not [p for p in run_dir.rglob("*") if ".tmp" in p.name or p.suffix == ".part"]
    assert not (run_dir / "tokenize.json").exists() and not (run_dir / "result.json").exists()


def _a_file(folder):
    (folder / "afile").write_text("x")


@pytest.mark.parametrize(
    "make, args, message",
    [
        (_a_file, ["text=hi", "hydra.run.dir={t}/afile/run"], "part of the path is a file, not a folder"),
        (_a_file, ["text=hi", "hydra.run.dir={t}/afile"], "a file is where a folder is wanted"),
        (
            lambda t: (t / "kept.jsonl").mkdir(),
            ["input={t}/in.csv", "results={t}/kept.jsonl", "hydra.run.dir={t}/run"],
            "a folder is where a file is wanted: name a file",
        ),
    ],
    ids=["under-a-file", "is-a-file", "results-is-a-folder"],
)
def test_a_run_directory_that_cannot_be_made_or_used_is_one_line(tmp_path, make, args, message):
    make(tmp_path)
    (tmp_path / "in.csv").write_text("text\nhello\n")
    given = [a.format(t=tmp_path) for a in args]
    proc = subprocess.run(
        [sys.executable, str(REPO / "run.py"), "task=tokenize", "model=smollm2-135m", *given],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith(f"error: cannot use {tmp_path}") and message in proc.stderr, proc.stderr
