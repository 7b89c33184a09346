"""task=ui: the Gradio app served on loopback and driven through gradio_client, as a script
would call it; its forms, its command line and its model cache on their own."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO, cli


def _record(outputs):
    """The API returns the slots of views.SLOTS, result.json's record first (as JSON text)."""
    return json.loads(outputs[0])


def test_every_task_is_an_endpoint_named_after_it_with_its_params(ui_app, ui_session):
    _, client, _ = ui_app
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    expected = {f"/{n.replace('-', '_')}" for n in ui_session.tasks.names() if n not in ("ui", "serve")}
    assert set(endpoints) == expected
    params = {p["parameter_name"]: p for p in endpoints["/sentiment"]["parameters"]}
    assert params["text"]["parameter_default"] is None  # a batch fills it from its file
    assert params["model"]["parameter_default"] == "qwen2.5-coder-1.5b"
    assert params["labels"]["parameter_default"] == ["positive", "negative", "neutral"]
    nested = {p["parameter_name"] for p in endpoints["/minutes"]["parameters"]}
    assert {"audio", "transcript", "llm_model", "asr_model"} <= nested


def test_sentiment_runs_like_the_cli_and_the_model_stays_loaded(ui_app):
    server, client, work = ui_app
    first = _record(client.predict(text="I love this phone, it is great!", model="smollm2-135m", api_name="/sentiment"))
    second = client.predict(text="This is awful, I want a refund.", model="smollm2-135m", api_name="/sentiment")
    record = _record(second)
    assert first["status"] == record["status"] == "ok"
    assert first["result"]["labels"][0]["label"] == "positive"
    labels = second[4]  # the label slot: gr.Label's value
    assert labels["label"] == record["result"]["labels"][0]["label"]
    assert [m.get("warm") for m in first["models"]] == [None] and record["models"][0]["warm"] is True
    assert record["metrics"]["load_s"] == 0
    run_dir = work / record["run_dir"]
    assert json.loads((run_dir / "result.json").read_text()) == record  # the record is the run dir's
    assert {p.name for p in run_dir.iterdir()} >= {"result.json", "sentiment.json", "sentiment.md", ".hydra"}
    # the status line gives the same run as a command; it gives the same label
    command = (run_dir / ".hydra" / "command.txt").read_text().strip()
    assert command == """python run.py task=sentiment 'text="This is awful, I want a refund."' model=smollm2-135m"""
    proc = cli(*shlex.split(command)[2:], "quiet=true", tmp_path=work / "cli")
    assert proc.returncode == 0, proc.stderr
    again = json.loads((work / "cli" / "run" / "result.json").read_text())
    assert again["result"]["labels"][0]["label"] == record["result"]["labels"][0]["label"]


def test_ner_highlights_entities_in_their_text(ui_app):
    _, client, _ = ui_app
    text = "Angela Merkel met Emmanuel Macron in Paris."
    out = client.predict(text=text, model="qwen2.5-coder-0.5b", api_name="/ner")
    record, highlighted = _record(out), out[5]
    assert record["status"] == "ok"
    marked = {h["token"]: h["class_or_confidence"] for h in highlighted if h["class_or_confidence"]}
    assert "".join(h["token"] for h in highlighted) == text
    assert marked == {e["word"]: e["entity"] for e in record["result"]["entities"]}
    assert marked.get("Angela Merkel") == "PER"


def test_minutes_of_the_example_transcript_with_downloads(ui_app):
    _, client, work = ui_app
    from gradio_client import handle_file

    out = client.predict(
        transcript=handle_file(str(REPO / "examples" / "meeting" / "standup.txt")),
        llm_model="qwen2.5-coder-0.5b",
        api_name="/minutes",
    )
    record, markdown, transcript, files = _record(out), out[2], out[10], out[11]
    assert record["status"] == "ok", record.get("error")
    items = {(a["owner"], a["due"]) for a in record["result"]["action_items"] if "refund" in a["task"].lower()}
    assert items == {("Ben", "Wednesday")}
    assert markdown.startswith("# ") and "Action items" in markdown
    assert "Ben: Yes, Wednesday works." in transcript
    names = {Path(f).name for f in files}
    assert {"minutes.json", "minutes.md", "result.json"} <= names
    run_dir = work / record["run_dir"]
    assert (run_dir / "minutes.md").read_text() == next(Path(f) for f in files if f.endswith("minutes.md")).read_text()


def test_the_archive_is_asked_from_its_tab(ui_app, tmp_path):
    """task=ask's tab: open items by owner as a table; a question's answer with its quotes."""
    from test_ask import CLINIC, MINUTES

    from taskdeck.app.ui.views import SLOTS
    from taskdeck.helpers.transcripts import read_transcript
    from taskdeck.plugins.tasks.minutes.archiving import index_minutes

    _, client, _ = ui_app
    archive = tmp_path / "archive.sqlite"
    index_minutes(MINUTES, read_transcript(str(CLINIC)), archive, "runs/clinic")
    out = client.predict(owner="omar", archive=str(archive), api_name="/ask")
    assert _record(out)["status"] == "ok", _record(out).get("error")
    assert "Omar Haddad" in out[SLOTS.index("text")]
    out = client.predict(question="How many flu vaccine doses arrived?", archive=str(archive), api_name="/ask")
    record = _record(out)
    assert record["status"] == "ok" and record["result"]["found"], record
    assert "four hundred doses" in out[SLOTS.index("text")]
    table = out[SLOTS.index("table")]
    assert any(row[table["headers"].index("speaker")] == "Grace" for row in table["data"])


def test_tts_returns_a_playable_wav(ui_app):
    import soundfile

    _, client, _ = ui_app
    out = client.predict(text="Hello from the web page.", api_name="/tts")
    assert _record(out)["status"] == "ok"
    audio, sample_rate = soundfile.read(out[7])
    assert sample_rate == 22050 and len(audio) / sample_rate > 0.8


def test_synthetic_records_with_their_table_and_file(ui_app):
    _, client, _ = ui_app
    out = client.predict(
        kind="one-line reviews of a bicycle shop",
        count=3,
        fields=["review:str", "stars:int:1..5"],
        model="qwen2.5-coder-0.5b",
        api_name="/synthetic",
    )
    record, table, files = _record(out), out[9], out[11]
    assert record["status"] == "ok", record.get("error")
    assert table["headers"] == ["review", "stars"] and len(table["data"]) == 3
    assert all(1 <= row[1] <= 5 for row in table["data"])
    records = next(Path(f) for f in files if f.endswith(".jsonl"))
    assert [json.loads(line)["review"] for line in records.read_text().splitlines()] == [r[0] for r in table["data"]]


def test_a_synthetic_preset_from_its_dropdown(ui_app):
    _, client, _ = ui_app
    out = client.predict(preset="reviews", count=2, model="qwen2.5-coder-0.5b", api_name="/synthetic")
    record, text, table = _record(out), out[2], out[9]
    assert record["status"] == "ok", record.get("error")
    assert table["headers"] == ["product", "rating", "title", "review", "verified_purchase"]
    assert record["result"]["description"] == "customer reviews of products bought in an online shop"
    assert "2 records of customer reviews" in text and "written 2" in text  # the quality report
    assert record["result"]["count"] == len(table["data"]) == 2


def test_chat_streams_into_the_conversation(ui_app):
    _, client, _ = ui_app
    job = client.submit(
        prompt="Count from one to ten in words.", model="smollm2-135m", max_new_tokens=48, api_name="/chat"
    )
    out = job.result()
    conversation = out[6]
    assert conversation[0]["content"][0]["text"] == "Count from one to ten in words."
    reply = conversation[1]["content"][0]["text"]
    assert reply and reply == _record(out)["result"]["text"]
    streamed = [o[6] for o in job.outputs()[:-1] if isinstance(o[6], list) and len(o[6]) == 2]
    assert streamed, "no partial reply was sent before the end"


def test_a_third_party_task_gets_a_tab_with_a_working_form(ui_app):
    _, client, _ = ui_app
    out = client.predict(text="the cat and the dog and the bird", top=2, api_name="/wordfreq")
    assert _record(out)["result"]["sections"][0]["rows"] == [{"word": "the", "count": 3}, {"word": "and", "count": 2}]
    assert "| the | 3 |" in out[2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "fine", "model": "no-such-model"}, "unknown model alias 'no-such-model'"),
        ({"text": "fine", "top_k": 0}, "top_k=0 is out of range: give an integer >= 1"),
        ({"text": "fine", "overrides": "no_such_key=1"}, "task=sentiment has no parameter 'no_such_key'"),
        ({}, "task 'sentiment' needs text"),
    ],
)
def test_errors_are_the_cli_one_line_messages(ui_app, kwargs, message):
    from gradio_client.exceptions import AppError

    _, client, _ = ui_app
    with pytest.raises(AppError) as caught:
        client.predict(api_name="/sentiment", **{"model": "smollm2-135m", **kwargs})
    assert message in str(caught.value) and "Traceback" not in str(caught.value)
    assert "\n" not in str(caught.value).strip()


# ---- the form, the command and the cache on their own ----


def test_form_widgets_follow_types_ranges_choices_and_hints(ui_session):
    from taskdeck.app.ui.forms import form_fields

    specs = {s.key: s for s in form_fields(ui_session.tasks.get("minutes"))}
    assert specs["audio"].widget == "audio" and not specs["audio"].advanced
    assert specs["transcript"].widget == "file" and specs["transcript"].file_types == (".txt", ".json", ".srt", ".vtt")
    assert specs["llm.model"].widget == "model" and specs["llm.model"].advanced
    assert specs["diarize"].widget == "tristate" and specs["speakers"].widget == "number"
    qa = {s.key: s for s in form_fields(ui_session.tasks.get("qa"))}
    assert (qa["chat_min_score"].widget, qa["chat_min_score"].minimum, qa["chat_min_score"].maximum) == ("slider", 0, 1)
    assert [s.key for s in form_fields(ui_session.tasks.get("qa"))][:2] == ["question", "context"]
    ner = {s.key: s for s in form_fields(ui_session.tasks.get("ner"))}
    assert ner["aggregation_strategy"].widget == "dropdown" and "max" in ner["aggregation_strategy"].choices
    assert ner["entity_types"].widget == "tags"
    synthetic = {s.key: s for s in form_fields(ui_session.tasks.get("synthetic"))}
    assert synthetic["format"].widget == "dropdown" and not synthetic["format"].advanced
    assert synthetic["hints"].widget == "mapping" and synthetic["out"].advanced
    chat = {s.key: s for s in form_fields(ui_session.tasks.get("chat"))}
    assert chat["top_p"].widget == "number"  # optional: a slider could not be left empty


@pytest.mark.parametrize(
    "value",
    ["I hate this.", "it's [fine], {really}", 'a "quoted" word', "null", "x=1, y=2", ["a", "b c"], 3, 0.5, True],
)
def test_the_command_shown_parses_back_to_the_value(value):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from taskdeck.app.ui.forms import override

    (arg,) = shlex.split(override("key", value))
    parsed = OverridesParser.create().parse_override(arg).value()
    assert parsed == value


def test_the_model_cache_is_bounded_keeps_models_in_use_and_loads_each_once():
    from taskdeck import Model
    from taskdeck.backends import Backend
    from taskdeck.engine.model_cache import ModelCache

    loads, unloads, inside = [], [], []

    class Fake(Backend):
        name = "fake"

        def chat(self, messages, **options):
            inside.append(1)
            time.sleep(0.05)
            busy = len(inside)
            inside.pop()
            return busy

        def unload(self):
            unloads.append(self.model)

    def loader(name):
        def load():
            time.sleep(0.05)
            loads.append(name)
            return Model(Fake(name, None), "chat")

        return load

    cache = ModelCache(limit=1)
    threads = [threading.Thread(target=cache.borrow, args=("a", loader("a"))) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert loads == ["a"]  # three borrowers, one load
    b, warm = cache.borrow("b", loader("b"))
    assert not warm and unloads == []  # "a" is still in use: not evicted past the limit
    for _ in range(3):
        cache.give_back("a")
    assert unloads == ["a"] and cache.keys() == ["b"]
    results = []
    calls = [threading.Thread(target=lambda: results.append(b.backend.chat([]))) for _ in range(3)]
    [t.start() for t in calls]
    [t.join() for t in calls]
    assert results == [1, 1, 1]  # one call at a time inside a model
    cache.give_back("b")
    cache.clear()
    assert unloads == ["a", "b"]


def test_a_batch_and_a_chat_on_one_cached_model_never_interleave():
    """Every contract method that uses the model takes its lock, chat_batch among them (a UI
    batch run beside a chat run on one shared llama.cpp model)."""
    from taskdeck import Model
    from taskdeck.backends import MODEL_METHODS, Backend
    from taskdeck.engine.model_cache import ModelCache

    inside, overlaps = [], []

    class Shared(Backend):
        name = "shared"

        def _busy(self, what):
            inside.append(what)
            time.sleep(0.05)
            if len(inside) > 1:
                overlaps.append(tuple(inside))
            inside.remove(what)

        def chat(self, messages, **options):
            self._busy("chat")

        def chat_batch(self, conversations, **options):
            for _ in conversations:
                self._busy("batch")

        def count_tokens(self, text):
            self._busy("count")
            return 1

    assert {"chat", "chat_batch", "count_tokens", "tokenize", "embed", "inspect"} <= set(MODEL_METHODS)
    cache = ModelCache()
    model, _ = cache.borrow("m", lambda: Model(Shared("m", None), "chat"))
    calls = [
        lambda: model.backend.chat_batch([[{"role": "user", "content": "a"}]] * 4),
        lambda: model.backend.chat([{"role": "user", "content": "b"}]),
        lambda: model.backend.count_tokens("c"),
    ]
    threads = [threading.Thread(target=c) for c in calls]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert overlaps == []
    cache.give_back("m")
    cache.clear()


# ---- the command line ----


def test_listing_the_plugins_does_not_import_gradio():
    code = "import sys; from taskdeck.app import main; main(['task=plugins']); assert 'gradio' not in sys.modules"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "ui" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["host=0.0.0.0"], "host=0.0.0.0 makes the page reachable from other machines: add auth_env="),
        (["auth_env=TASKDECK_NO_SUCH_VAR"], "auth_env=TASKDECK_NO_SUCH_VAR: set that variable to user:password"),
        (["tasks=[sentimen]"], "unknown task 'sentimen' (did you mean 'sentiment'?)"),
    ],
)
def test_ui_refuses_in_one_line(tmp_path, args, message):
    proc = cli("task=ui", "port=0", *args, tmp_path=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: {proc.stderr.strip().removeprefix('error: ')}"]
    assert message in proc.stderr


def _ui_process(tmp_path, *args: str, ignore_sigint: bool = False) -> subprocess.Popen:
    """``task=ui`` in a process of its own; ``ignore_sigint``: started as a shell starts a
    background job without job control, SIGINT ignored."""
    command = [sys.executable, str(REPO / "run.py"), "task=ui", "port=0", *args, f"hydra.run.dir={tmp_path}"]
    if ignore_sigint:
        command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "GRADIO_TEMP_DIR": str(tmp_path / "gradio")},
    )


def _stopped(proc: subprocess.Popen, sig: int) -> tuple[str, str]:
    """Send ``sig`` and wait for the process to end (killed, and the test failed, if it does not)."""
    proc.send_signal(sig)
    try:
        return proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"task=ui did not stop on signal {sig}:\n{err[-3000:]}") from None


@pytest.mark.parametrize(
    "sig, ignore_sigint",
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGINT", "SIGTERM", "SIGINT-in-a-background-job"],
)
def test_task_ui_serves_until_interrupted(tmp_path, sig, ignore_sigint):
    """Ctrl-C, SIGTERM (systemd, Docker), and SIGINT to a job started in the background (which
    inherits SIGINT ignored): each stops the app cleanly."""
    import urllib.request

    proc = _ui_process(tmp_path, "tasks=[sentiment]", ignore_sigint=ignore_sigint)
    try:
        line = proc.stdout.readline()
        assert line.startswith("taskdeck ui on http://127.0.0.1:"), line + proc.stderr.read()
        url = line.split()[3]
        page = urllib.request.urlopen(url, timeout=30).read().decode()
        assert "<title>taskdeck</title>" in page or "taskdeck" in page
    finally:
        out, err = _stopped(proc, sig)
    assert proc.returncode == 0 and "Traceback" not in err, err
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["status"] == "ok" and record["result"]["sections"][0]["rows"][0]["url"] == url


def test_a_run_in_progress_ends_as_interrupted_when_the_app_is_stopped(tmp_path):
    """SIGTERM while a chat is being generated: the app stops, and the run's directory says
    it was interrupted (nothing half-written, nothing left running)."""
    from gradio_client import Client

    proc = _ui_process(tmp_path, "tasks=[chat]")
    try:
        url = proc.stdout.readline().split()[3]
        client = Client(url, verbose=False)
        client.submit(
            prompt="Write a very long essay, twenty paragraphs, on the history of Rome.",
            model="qwen2.5-coder-0.5b",
            max_new_tokens=3000,
            temperature=0.0,
            api_name="/chat",
        )
        started, deadline = None, time.monotonic() + 120
        while started is None and proc.poll() is None and time.monotonic() < deadline:
            started = next(iter((tmp_path / "outputs").glob("chat/*/*/.hydra")), None)  # the run began
            time.sleep(0.1)
    finally:
        out, err = _stopped(proc, signal.SIGTERM)
    assert started is not None, err
    assert proc.returncode == 0 and "Traceback" not in err, err
    run = json.loads((started.parent / "result.json").read_text())
    assert run["status"] == "interrupted", run
    assert not list(started.parent.glob("*.tmp*"))


def test_a_batch_reports_its_progress_and_shows_its_table(ui_app):
    from gradio_client import handle_file

    _, client, _ = ui_app
    job = client.submit(
        input=handle_file(str(REPO / "examples" / "data" / "sentiment_eval.csv")),
        model="smollm2-135m",
        api_name="/sentiment",
    )
    progress = []
    while not job.done():
        progress += [(p.desc, p.index, p.length) for p in (job.status().progress_data or [])]
        time.sleep(0.2)
    out = job.result()
    record, table = _record(out), out[9]
    assert record["status"] == "ok" and record["result"]["ok"] == 30
    assert len(table["data"]) == 30 and "label" in table["headers"]
    assert any(desc == "sentiment" and length == 30 for desc, _, length in progress), progress


def test_stop_interrupts_a_run_like_ctrl_c_and_a_batch_keeps_its_rows(ui_app, tmp_path):
    from taskdeck.app.ui.jobs import Request

    server, _, work = ui_app
    rows = tmp_path / "many.csv"
    rows.write_text("text\n" + "".join(f"review number {i}: it was fine, I guess\n" for i in range(400)))
    job = server.runs.start(Request("sentiment", {"input": str(rows), "model": "smollm2-135m"}))
    results = job.run_dir / "results.jsonl"
    deadline = time.time() + 120
    while not (results.exists() and results.read_text().count("\n") >= 3) and time.time() < deadline:
        time.sleep(0.1)
    assert job.cancel(), "the run did not stop"
    record = json.loads((job.run_dir / "result.json").read_text())
    assert record["status"] == "interrupted" and isinstance(job.error, KeyboardInterrupt)
    kept = [json.loads(line) for line in results.read_text().splitlines()]
    assert 3 <= len(kept) < 400 and all(r.get("label") for r in kept)


#: Each built-in task from its tab on the embedded defaults (minutes on audio: the browser test;
#: synthetic: above), and the slot its result fills.
ON_DEFAULTS = [
    ("text_classification", {"text": "The match ended 2-1.", "labels": ["sport", "politics"]}, "labels"),
    ("zero_shot", {"text": "Parliament passed the budget.", "labels": ["sport", "politics"]}, "labels"),
    ("qa", {"question": "Where is the bike?", "context": "The bike is in Lisbon, at the office."}, "highlighted"),
    ("fill_mask", {"text": "Paris is the [MASK] of France."}, "labels"),
    ("summarization", {"text": "The team met on Monday. They agreed to ship the app in May. " * 3}, "text"),
    ("translation", {"text": "Good morning, everyone.", "target": "French"}, "text"),
    ("asr", {"audio": "examples/meeting/launch_meeting.mp3"}, "table"),
    ("image_classification", {"image": "examples/images/coffee.jpg"}, "labels"),
    ("tokenize", {"text": "Hello, world!"}, "html"),
    ("inspect", {}, "text"),
    ("plugins", {}, "text"),
]


@pytest.mark.parametrize(("api", "kwargs", "slot"), ON_DEFAULTS, ids=[c[0] for c in ON_DEFAULTS])
def test_every_builtin_task_runs_from_its_tab_on_the_defaults(ui_app, api, kwargs, slot):
    from gradio_client import handle_file

    from taskdeck.app.ui.views import SLOTS

    _, client, _ = ui_app
    given = {k: handle_file(str(REPO / v)) if k in ("audio", "image") else v for k, v in kwargs.items()}
    out = client.predict(api_name=f"/{api}", **given)
    assert _record(out)["status"] == "ok", _record(out).get("error")
    assert out[SLOTS.index(slot)], f"{api}: nothing in the {slot} slot"


def test_detections_show_the_annotated_image_and_the_objects(ui_app, tmp_path):
    import vision_models
    from gradio_client import handle_file

    from taskdeck.app.ui.views import SLOTS

    _, client, _ = ui_app
    detr = vision_models.detr(tmp_path / "detr")
    out = client.predict(
        api_name="/object_detection",
        image=handle_file(str(REPO / "examples/images/cat.jpg")),
        model=str(detr),
        threshold=0,
    )
    assert _record(out)["status"] == "ok", _record(out).get("error")
    gallery, table = out[SLOTS.index("gallery")], out[SLOTS.index("table")]
    assert len(gallery) == 1 and str(gallery[0]["image"]).endswith("object-detection.png")
    assert table["headers"][:2] == ["label", "score"] and len(table["data"]) == 5


def test_text_to_image_without_a_model_says_which_to_name(ui_app):
    from gradio_client.exceptions import AppError

    _, client, _ = ui_app
    with pytest.raises(AppError, match="model="):
        client.predict(prompt="a red bicycle", api_name="/text_to_image")


def test_models_compared_from_the_page_give_the_multirun_table_and_plot(ui_app):
    from gradio_client import handle_file

    from taskdeck.comparison import write_comparison

    _, client, work = ui_app
    out = client.predict(
        eval=handle_file(str(REPO / "examples" / "data" / "sentiment_eval.csv")),
        compare_models=["smollm2-135m", "qwen2.5-coder-0.5b"],
        api_name="/sentiment",
    )
    record, text, gallery, table = _record(out), out[2], out[8], out[9]
    assert record["status"] == "ok" and [j["model"] for j in record["jobs"]] == ["smollm2-135m", "qwen2.5-coder-0.5b"]
    assert table["headers"][:4] == ["job", "model", "status", "accuracy"]
    assert [row[1] for row in table["data"]] == ["smollm2-135m", "qwen2.5-coder-0.5b"]
    assert Path(gallery[0]["image"]).name == "comparison.png"
    sweep = work / record["run_dir"]
    assert (sweep / "0" / "result.json").exists() and (sweep / "1" / ".hydra" / "overrides.yaml").exists()
    shown = (sweep / "comparison.md").read_text()
    assert text.strip() == shown.strip()
    write_comparison(sweep)  # the command line's own rebuild of the sweep gives the same table
    assert (sweep / "comparison.md").read_text() == shown


def test_without_gradio_the_ui_names_the_extra(monkeypatch):
    from taskdeck.app.ui import UiTask, serve
    from taskdeck.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "gradio", None)  # as if it were not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'taskdeck\[ui\]'"):
        serve(UiTask.Params(port=0))


LEAVING_CLIENT = """
import sys, time
from gradio_client import Client
from gradio_client.utils import Status
job = Client(sys.argv[1], verbose=False).submit(
    prompt="Write a very long essay, twenty paragraphs, on the history of Rome.",
    model="smollm2-135m", max_new_tokens=3000, temperature=0.0, api_name="/chat",
)
while job.status().code != Status.ITERATING:
    time.sleep(0.05)
print("streaming", flush=True)
time.sleep(600)
"""


def test_clients_beyond_the_queue_are_refused_and_a_client_that_leaves_stops_its_run(tmp_path):
    """A long chat streams to a client while four clients call /sentiment at once: two wait
    (queue=2) and two are refused with Gradio's "queue is full". The chat's client is killed
    mid-stream: its run ends as interrupted and the two waiting are answered, with the right
    labels. Every run directory is whole."""
    from gradio_client import Client
    from gradio_client.utils import QueueError, Status

    proc = _ui_process(tmp_path, "tasks=[chat,sentiment]", "queue=2")
    leaving = None
    try:
        url = proc.stdout.readline().split()[3]
        leaving = subprocess.Popen([sys.executable, "-c", LEAVING_CLIENT, url], stdout=subprocess.PIPE, text=True)
        assert leaving.stdout.readline().strip() == "streaming"
        texts = ["I love this phone, it is great!", "This is awful, I want a refund.", "Great!", "Awful."]
        jobs = []
        for client, text in [(Client(url, verbose=False), t) for t in texts]:  # one after another, in order
            jobs.append(client.submit(text=text, model="qwen2.5-coder-0.5b", api_name="/sentiment"))
            while jobs[-1].status().code in (Status.STARTING, Status.JOINING_QUEUE):
                time.sleep(0.05)
        refused = []
        for job in jobs[2:]:  # the queue holds the first two
            with pytest.raises(QueueError, match="Queue is full"):
                job.result(timeout=60)
            refused.append(job)
        assert not any(job.done() for job in jobs[:2])  # still waiting behind the chat
        leaving.kill()
        labels = [_record(job.result(timeout=120))["result"]["labels"][0]["label"] for job in jobs[:2]]
    finally:
        if leaving is not None and leaving.poll() is None:
            leaving.kill()
        out, err = _stopped(proc, signal.SIGINT)
    assert labels == ["positive", "negative"]
    assert proc.returncode == 0 and "Traceback" not in err, err
    runs = {p.parent.parent.parent.name: [] for p in (tmp_path / "outputs").glob("*/*/*/.hydra")}
    for hydra in (tmp_path / "outputs").glob("*/*/*/.hydra"):
        runs[hydra.parent.parent.parent.name].append(json.loads((hydra.parent / "result.json").read_text())["status"])
        assert not list(hydra.parent.glob("*.tmp*"))
    assert runs == {"chat": ["interrupted"], "sentiment": ["ok", "ok"]}
    served = json.loads((tmp_path / "result.json").read_text())["result"]["sections"][0]["rows"][0]
    assert served["runs"] == 3
