"""Every built-in task's default runs (on the embedded models, offline)."""

import pytest

# The inputs a user must give each built-in task; everything else is its default.
SAMPLE_INPUTS = {
    "plugins": [],
    "sentiment": ["text=What a wonderful day"],
    "text-classification": ["text=What a wonderful day", "labels=[weather,food,sport]"],
    "zero-shot": ["text=The striker scored twice in the final", "labels=[sport,politics,cooking]"],
    "ner": ["text=Maria Lopez flew from Paris to Berlin to meet Acme Corp."],
    "qa": ["question='Where does Maria live?'", "context='Maria lives in Lisbon and works in Porto.'"],
    "fill-mask": ["text='The capital of France is [MASK].'"],
    "summarization": ["text=" + "The city council met on Monday to discuss the new bike lanes. " * 3],
    "translation": ["text='Good morning, how are you?'", "target=French"],
    "chat": ["prompt=Say hello in one word.", "max_new_tokens=8"],
    "minutes": ["transcript=examples/meeting/standup.txt"],
    "asr": ["audio=examples/meeting/launch_meeting.mp3"],
    "tts": ["text='Good morning, everyone.'"],
    "text-to-image": ["prompt='a red bicycle'"],
    "image-classification": ["image=examples/images/coffee.jpg"],
    "zero-shot-image-classification": ["image=examples/images/cat.jpg", "labels=[cat,dog]"],
    "image-to-text": ["image=examples/images/cat.jpg"],
    "object-detection": ["image=examples/images/cat.jpg"],
    "synthetic": ["kind='customer reviews for a coffee shop'", "count=3"],
    "tokenize": ["text='Tokenizers split unbelievably long words.'"],
    "inspect": [],
    "voices": [],
    "ask": [],
}
#: Servers run until Ctrl-C: their defaults are served and stopped in their own tests.
SERVERS = {"serve": "test_serve.py::test_the_default_pack_serves_until_ctrl_c"}
#: Defaults that cannot run offline: the one line each gives instead.
NO_OFFLINE_DEFAULT = {
    task: "needs model="
    for task in ("text-to-image", "zero-shot-image-classification", "image-to-text", "object-detection")
}


def _builtin_tasks():
    from taskdeck.engine.plugin_manager import get_session

    s = get_session()
    return sorted(n for n in s.tasks.names() if s.tasks.owner(n).startswith("taskdeck.plugins."))


def test_every_builtin_task_has_a_sample():
    assert set(_builtin_tasks()) <= set(SAMPLE_INPUTS) | set(SERVERS)


@pytest.mark.parametrize("task", sorted(set(_builtin_tasks()) - set(SERVERS)))
def test_builtin_default_runs(run_in_process, task):
    from taskdeck import TaskdeckError

    if task in NO_OFFLINE_DEFAULT:
        with pytest.raises(TaskdeckError, match=NO_OFFLINE_DEFAULT[task]) as err:
            run_in_process(f"task={task}", *SAMPLE_INPUTS[task])
        assert "\n" not in str(err.value)
        return
    record, result, run_dir, out = run_in_process(f"task={task}", *SAMPLE_INPUTS[task])
    assert record["status"] == "ok" and out.strip()
    assert (run_dir / "result.json").exists()
