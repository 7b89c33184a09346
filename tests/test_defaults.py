"""Every built-in task's default runs (on the embedded models, offline)."""
import pytest

# The inputs a user must give each built-in task; everything else is its default.
SAMPLE_INPUTS = {
    "plugins": [],
    "sentiment": ["text=What a wonderful day"],
}


def test_every_builtin_task_has_a_sample(session):
    builtin = {n for n in session.tasks.names() if session.tasks.owner(n).startswith("taskdeck.plugins.")}
    assert builtin == set(SAMPLE_INPUTS)


@pytest.mark.parametrize("task", sorted(SAMPLE_INPUTS))
def test_builtin_default_runs(run_in_process, task):
    record, result, run_dir, out = run_in_process(f"task={task}", *SAMPLE_INPUTS[task])
    assert record["status"] == "ok" and out.strip()
    assert (run_dir / "result.json").exists()
