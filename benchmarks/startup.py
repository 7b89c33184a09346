"""Start-up cost of taskdeck's plugin listing vs a bare Hydra no-op job.

Times whole-process runs (interpreter start to exit) of

  bare      a ``@hydra.main(version_base="1.3", config_path=None)`` function that does
            nothing (written to a temp dir at run time)
  taskdeck  ``run.py task=plugins output=text``

interleaved, after one untimed warm-up run of each, and reports median and min wall
seconds and the ratio taskdeck/bare (target: <= 1.5x). One extra in-process run of the
listing then shows whether torch, transformers or openai (and numpy, llama_cpp) got
imported — the listing must not import them.

Run from the repository root:  python benchmarks/startup.py [--runs 7] [--no-bytecode]

By default both sides run as installed for users, with bytecode cached (.pyc files written on
the warm-up run and read after). ``--no-bytecode`` compiles every module on every run
(PYTHONDONTWRITEBYTECODE=1 and an empty PYTHONPYCACHEPREFIX), as on a machine that sets
PYTHONDONTWRITEBYTECODE; the output says which way it ran.
"""

import argparse
import ast
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "openai")

BARE_APP = """\
import hydra


@hydra.main(version_base="1.3", config_path=None)
def main(cfg):
    pass


if __name__ == "__main__":
    main()
"""

PROBE = (
    "import sys; sys.argv=['run.py','task=plugins','output=text','hydra.run.dir={run_dir}']; "
    "from taskdeck.app import main; main(); "
    "print(sorted(m for m in ('torch','transformers','openai','numpy','llama_cpp') if m in sys.modules))"
)


# As installed for users, Python caches bytecode; some environments switch that off
# (PYTHONDONTWRITEBYTECODE), which recompiles every module of the slower side at each start.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd, cwd, env=ENV):
    """Seconds one whole-process run takes; fails loudly if the command fails."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr}")
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs of each command (default 7)")
    ap.add_argument("--no-bytecode", action="store_true", help="compile every module on every run")
    args = ap.parse_args()
    env = dict(ENV)

    with tempfile.TemporaryDirectory(prefix="taskdeck-startup-") as tmp:
        tmp = Path(tmp)
        if args.no_bytecode:
            (tmp / "no-pycache").mkdir()
            env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(tmp / "no-pycache"))
        app = tmp / "app.py"
        app.write_text(BARE_APP)
        commands = {
            "bare": ([sys.executable, str(app), f"hydra.run.dir={tmp / 'bare'}"], tmp),
            "taskdeck": (
                [sys.executable, "run.py", "task=plugins", "output=text", f"hydra.run.dir={tmp / 'taskdeck'}"],
                ROOT,
            ),
        }
        times = {name: [] for name in commands}
        for cmd, cwd in commands.values():  # warm-up: file cache, .pyc files
            wall(cmd, cwd, env)
        for _ in range(args.runs):
            for name, (cmd, cwd) in commands.items():
                times[name].append(wall(cmd, cwd, env))

        probe = subprocess.run(
            [sys.executable, "-c", PROBE.format(run_dir=tmp / "probe")], cwd=ROOT, capture_output=True, text=True
        )

    way = "no bytecode cache: every module compiled each run" if args.no_bytecode else "bytecode cached"
    print(f"whole-process wall seconds, {args.runs} runs each (python {sys.version.split()[0]}, {way})")
    print(f"{'':10} {'median':>8} {'min':>8} {'max':>8}")
    for name, ts in times.items():
        print(f"{name:10} {statistics.median(ts):8.3f} {min(ts):8.3f} {max(ts):8.3f}")
    med = statistics.median(times["taskdeck"]) / statistics.median(times["bare"])
    best = min(times["taskdeck"]) / min(times["bare"])
    print(
        f"ratio taskdeck/bare: median {med:.2f}x, min {best:.2f}x  (target <= 1.5x: "
        f"{'met' if med <= 1.5 else 'NOT met'})"
    )

    if probe.returncode:
        print(f"import probe failed ({probe.returncode}):\n{probe.stderr.strip()}")
        return
    loaded = ast.literal_eval(probe.stdout.strip().splitlines()[-1])  # last line: a list
    heavy = [m for m in loaded if m in HEAVY]
    print(f"modules imported by the listing (of torch, transformers, openai, numpy, llama_cpp): {loaded or 'none'}")
    print(f"heavy imports (torch/transformers/openai): {heavy or 'none'} -> {'FAIL' if heavy else 'ok'}")


if __name__ == "__main__":
    main()
