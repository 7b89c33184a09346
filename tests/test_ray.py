"""hydra/launcher=ray: sweeps and sharded batches as Ray tasks on a local Ray cluster.

Ray's gRPC servers listen on every interface, so each command here runs in a network
namespace of its own (``unshare -rn``) whose one interface is loopback: the cluster the
launcher starts is reachable from this machine alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO
from test_comparison import GOLD, SENTIMENT, biased_classifiers, expected_scores, table  # noqa: F401 - a fixture

RAY = ("hydra/launcher=ray", "+hydra.launcher.ray.init.include_dashboard=false")


def loopback_only(cmd: list[str]) -> list[str]:
    """``cmd`` in a new network namespace with only the loopback interface, up."""
    return ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *cmd]


def ray_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "TASKDECK_TRACEBACK")}
    # Ray starts its workers at niceness 15: on a machine whose cores another process keeps
    # busy they get almost no CPU (a job ran at 6 % of a core for 10 minutes); its job manager
    # sets 0 for jobs, and so do the tests
    quiet = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DEDUP_LOGS": "0", "RAY_worker_niceness": "0"}
    return {**env, "HF_HUB_OFFLINE": "1", **quiet}


def ray_sweep(tmp_path: Path, *args: str) -> list[str]:
    out = tmp_path / "sweep"
    return loopback_only(
        [sys.executable, str(REPO / "run.py"), "-m", *args, *RAY, "quiet=true", f"hydra.sweep.dir={out}"]
    )


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, env=ray_env(), capture_output=True, text=True, timeout=600)


def test_two_by_two_sweep_runs_as_ray_tasks(tmp_path):
    """Four jobs, each in a fresh Ray worker process (``max_calls=1``: no worker holds
    another job's model)."""
    models, texts = "model=smollm2-135m,qwen2.5-coder-0.5b", "text=hello,goodbye"
    proc = run(ray_sweep(tmp_path, "task=tokenize", models, texts, "+hydra.launcher.ray.remote.max_calls=1"))
    assert proc.returncode == 0, proc.stderr
    import re

    assert len(set(re.findall(r"\(_run_job pid=(\d+)\)", proc.stdout))) == 4  # four worker processes
    rows = table(tmp_path / "sweep")
    assert [(r["model"], r["text"], r["status"]) for r in rows] == [
        ("smollm2-135m", "hello", "ok"),
        ("smollm2-135m", "goodbye", "ok"),
        ("qwen2.5-coder-0.5b", "hello", "ok"),
        ("qwen2.5-coder-0.5b", "goodbye", "ok"),
    ]
    for row in rows:
        record = json.loads((tmp_path / "sweep" / row["job"] / "result.json").read_text())
        assert "".join(t["piece"] for t in record["result"]["tokens"]) == row["text"]
    assert (tmp_path / "sweep" / "comparison.png").stat().st_size > 0


def test_shards_as_ray_tasks_are_merged_in_order_and_rescored(biased_classifiers, tmp_path):  # noqa: F811
    pos = biased_classifiers["positive"]
    proc = run(ray_sweep(tmp_path, "task=sentiment", f"model={pos}", f"eval={SENTIMENT}", "shard=1/3,2/3,3/3"))
    assert proc.returncode == 0, proc.stderr
    rows = table(tmp_path / "sweep")
    assert [(r["shard"], r["status"], int(r["items"])) for r in rows] == [
        ("1/3", "ok", 10),
        ("2/3", "ok", 10),
        ("3/3", "ok", 10),
        ("merged", "ok", 30),
    ]
    merged = tmp_path / "sweep" / "merged" / "0" / "results.jsonl"
    assert [json.loads(ln)["index"] for ln in merged.read_text().splitlines()] == list(range(len(GOLD)))
    assert float(rows[-1]["accuracy"]) == pytest.approx(expected_scores("positive")[0], abs=1e-4)


def test_a_shard_whose_worker_dies_leaves_the_table_of_what_finished(tmp_path):
    """Three shards one at a time (each asks for both CPUs); once two have finished, the
    worker running the third is killed (as the OOM killer would): the sweep stops with one
    line, and the table holds the two finished shards, the lost one and no merge."""
    import psutil

    prompts = tmp_path / "prompts.jsonl"
    topics = ("a lighthouse", "a red bicycle", "the first snow", "a lost key", "a train", "an old map")
    prompts.write_text("".join(json.dumps({"prompt": f"Write a short poem about {t}."}) + "\n" for t in topics))
    cmd = ray_sweep(
        tmp_path,
        "task=chat",
        "model=smollm2-135m",
        f"input={prompts}",
        "temperature=0",
        "max_new_tokens=64",
        "shard=1/3,2/3,3/3",
        "+hydra.launcher.ray.remote.num_cpus=2",
        "+hydra.launcher.ray.remote.max_retries=0",
    )
    sweep = tmp_path / "sweep"
    proc = subprocess.Popen(cmd, cwd=REPO, env=ray_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    while killed is None and proc.poll() is None:  # bound by the sweep's own events, not by wall time
        started = [d for d in sweep.glob("[0-9]") if (d / ".hydra").is_dir()]
        finished = [d for d in started if (d / "result.json").exists()]
        if len(started) == 3 and len(finished) == 2:
            workers = [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [""])[0] == "ray::_run_job"]
            for worker in workers:
                worker.kill()
                killed = next(d.name for d in started if d not in finished)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=1800)  # a guard against a hang only: slow on a loaded machine
    assert killed is not None, f"no running shard was found to kill:\n{out}\n{err}"
    assert proc.returncode == 1, err
    assert err.strip().splitlines()[-1].startswith("error: WorkerCrashedError") and "Traceback" not in err
    rows = {r["job"]: r for r in table(sweep)}
    assert {j: rows[j]["status"] for j in ("0", "1", "2")} == {
        j: ("no result" if j == killed else "ok") for j in ("0", "1", "2")
    }
    assert rows["merged/0"]["status"] == "incomplete" and rows["sweep"]["status"] == "stopped"
    assert "# Comparison: 3 job(s), 2 ok" in out


def test_each_ray_task_uses_the_cpus_it_was_given():
    """taskdeck's thread count inside a Ray task is the task's num_cpus, not the node's CPUs."""
    script = (
        "import ray\n"
        "from taskdeck.helpers.cpu import available_cpus\n"
        "ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)\n"
        "f = ray.remote(available_cpus)\n"
        "print(available_cpus(), ray.get(f.options(num_cpus=1).remote()), ray.get(f.options(num_cpus=2).remote()))\n"
    )
    proc = run(loopback_only([sys.executable, "-c", script]))
    assert proc.returncode == 0, proc.stderr
    driver, one, two = map(int, proc.stdout.split())
    assert (one, two) == (1, min(2, driver))
