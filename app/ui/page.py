"""The Gradio Blocks app: a tab per registered task, each a form made from its Params, a
Run and a Stop button, and the output slots its results need.

Each tab's Run is an API endpoint named after the task (``/sentiment``), with the form's
fields as keyword parameters; it returns the slots of ``views.SLOTS``, ``result.json``'s
record first (as JSON text).
"""

from __future__ import annotations

import inspect
import json
import shlex
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

from taskdeck.app import one_line
from taskdeck.params import MISSING

from . import views
from .forms import FieldSpec, form_fields, upload_path, value_of
from .jobs import Request, Runs

FIRST_TABS = ("minutes", "chat")  # the flagship first; the listing of plugins last
SKIP_TASKS = ("ui", "serve")  # servers that run until Ctrl-C have no tab
CSS = ".taskdeck-status p { margin: 0; }"
ALWAYS_SHOWN = ("record", "status", "text")  # the text streams into view; the rest shows once filled


class _Slot:
    """A browser session's run in one tab, so its Stop button can reach it."""

    def __init__(self) -> None:
        self.job: Any = None

    def __deepcopy__(self, memo: dict) -> _Slot:  # gr.State copies its initial value per session
        return _Slot()


def build(session: Any, runs: Runs, tasks: Optional[list[str]] = None, concurrency: int = 1) -> Any:
    """The app for ``session``'s tasks (``tasks``: only these), not yet launched."""
    import gradio as gr

    from taskdeck.errors import UnknownNameError

    known = [n for n in session.tasks.names() if n not in SKIP_TASKS]
    for name in tasks or []:
        if name not in known:
            raise UnknownNameError("task", name, known, "tasks= names the tabs to show")
    names = [n for n in known if not tasks or n in tasks]
    ordered = [n for n in FIRST_TABS if n in names] + [n for n in names if n not in FIRST_TABS and n != "plugins"]
    ordered += ["plugins"] if "plugins" in names else []
    with gr.Blocks(title="taskdeck", analytics_enabled=False) as demo:
        gr.Markdown(
            f"## taskdeck\n{len(ordered)} tasks, each run as `python run.py` runs it: same run directory, "
            "`result.json` and files. Models stay loaded between runs."
        )
        with gr.Tabs():
            for name in ordered:
                task_cls = session.tasks.get(name)
                with gr.Tab(name, id=name):
                    _tab(gr, session, runs, task_cls, concurrency)
    return demo


def _tab(gr: Any, session: Any, runs: Runs, task_cls: Any, concurrency: int) -> None:
    specs = form_fields(task_cls)
    chat = any(h == "chat" for h in getattr(task_cls, "form_hints", {}).values())
    gr.Markdown(task_cls.description)
    # the order of the components, which the handler's values and the API's parameters follow:
    # the inputs, the model (beside the backend), then the advanced options
    specs = sorted(specs, key=lambda s: (s.advanced, s.widget == "model" and not s.advanced))
    main = [s for s in specs if not s.advanced]
    advanced = [s for s in specs if s.advanced]
    fields: list[Any] = []
    chatbot = gr.Chatbot(label="conversation", height=360) if chat else None
    for spec in main:
        if spec.widget != "model":
            fields.append(_component(gr, spec, session, task_cls, elem_id=f"{task_cls.name}--{spec.name}"))
    with gr.Row():
        for spec in main:  # the model beside its backend
            if spec.widget == "model":
                fields.append(_component(gr, spec, session, task_cls, elem_id=f"{task_cls.name}--{spec.name}"))
        backends = ["auto", *(n for n, c in session.backends.items() if set(c.all_capabilities) & set(task_cls.needs))]
        backend = gr.Dropdown(backends, value="auto", label="backend", allow_custom_value=False, scale=1)
        presets = _presets(session, task_cls.name)
        preset = gr.Dropdown(["", *presets], value="", label="preset", visible=bool(presets), scale=1)
    with gr.Accordion("Advanced", open=False):
        for spec in advanced:
            fields.append(_component(gr, spec, session, task_cls, elem_id=f"{task_cls.name}--{spec.name}"))
        batch = gr.File(
            label="batch file (input=): one run per row",
            file_types=[".csv", ".tsv", ".jsonl", ".json", ".txt", ".parquet"],
            type="filepath",
        )
        evaluate = gr.File(
            label="labelled file to score (eval=): the batch, with its quality metrics",
            file_types=[".csv", ".tsv", ".jsonl", ".json", ".parquet"],
            type="filepath",
            visible=task_cls.eval_metric is not None,
        )
        outputs = gr.CheckboxGroup(
            session.formatters.names(), value=list(task_cls.outputs), label="output formats (output=)"
        )
        extra = gr.Textbox(
            value="", label="more overrides, as on the command line", placeholder="backend.n_ctx=8192 seed=1"
        )
        model_spec = next((s for s in specs if s.key == "model"), None)
        compare = gr.Dropdown(
            _models(session, task_cls, None),
            value=[],
            multiselect=True,
            allow_custom_value=True,
            label="compare models: one run per model and a comparison table (python run.py -m ... model=a,b)",
            visible=model_spec is not None,
            elem_id=f"{task_cls.name}--compare",
        )
    with gr.Row():
        run = gr.Button("Run", variant="primary", scale=3, elem_id=f"{task_cls.name}--run")
        stop = gr.Button("Stop", variant="stop", scale=1, elem_id=f"{task_cls.name}--stop")
        clear = gr.Button("New conversation", visible=chat, scale=1)
    status = gr.Markdown(elem_classes="taskdeck-status")
    with gr.Row():  # a report with its source beside it (minutes and their transcript)
        text = gr.Markdown(label="output")
        detail = gr.Markdown(visible=False, max_height=900)
    slots = {
        "status": status,
        "text": text,
        "html": gr.HTML(visible=False),
        "labels": gr.Label(visible=False, label="labels"),
        "highlighted": gr.HighlightedText(visible=False, label="in the text", combine_adjacent=False),
        "chat": chatbot if chatbot is not None else gr.Chatbot(visible=False),
        "audio": gr.Audio(visible=False, label="audio", type="filepath"),
        "gallery": gr.Gallery(visible=False, label="images"),
        "table": gr.Dataframe(visible=False, label="table", wrap=True),
        "detail": detail,
        "files": gr.File(visible=False, label="files", file_count="multiple"),
    }
    with gr.Accordion("result.json", open=False):
        # JSON text, not gr.JSON: gradio_client would take any nested {"path": ...} for a file to fetch
        slots["record"] = gr.Code(language="json", label="result.json", interactive=False)
    for name, component in slots.items():
        component.elem_id = f"{task_cls.name}--{name}"
    slot_state = gr.State(_Slot())
    history = gr.State([])
    handler = _handler(gr, runs, task_cls, specs, chat)
    named = inspect.Parameter.POSITIONAL_OR_KEYWORD
    handler.__signature__ = inspect.Signature(
        [  # the API's parameter names; gradio finds the progress tracker by its default
            *(_parameter(s) for s in specs),
            inspect.Parameter("backend", named, default="auto"),
            inspect.Parameter("preset", named, default=None),
            inspect.Parameter("input", named, default=None),
            inspect.Parameter("eval", named, default=None),
            inspect.Parameter("output", named, default=list(task_cls.outputs)),
            inspect.Parameter("overrides", named, default=None),
            inspect.Parameter("compare_models", named, default=None),
            inspect.Parameter("slot", named, default=None),
            inspect.Parameter("history", named, default=None),
            inspect.Parameter("progress", named, default=gr.Progress(track_tqdm=True)),
        ]
    )
    shown = [slots[name] for name in views.SLOTS if name not in ALWAYS_SHOWN]
    run.click(
        handler,
        [*fields, backend, preset, batch, evaluate, outputs, extra, compare, slot_state, history],
        [*(slots[name] for name in views.SLOTS), history],
        api_name=task_cls.name.replace("-", "_"),
        api_description=task_cls.description,
        concurrency_id="runs",
        concurrency_limit=concurrency,
    ).then(_visibility(gr, chat), shown, shown, queue=False, api_visibility="private")
    stop.click(_stop, [slot_state], [status], queue=False, api_visibility="private")
    if chat:
        clear.click(lambda: ([], []), None, [slots["chat"], history], queue=False, api_visibility="private")


def _parameter(spec: FieldSpec) -> inspect.Parameter:
    """An API parameter; a required input may still be left out (a batch fills it from its file,
    else the runner names it, as on the command line)."""
    return inspect.Parameter(spec.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=spec.initial)


def _component(gr: Any, spec: FieldSpec, session: Any, task_cls: Any, elem_id: str) -> Any:
    """The widget of one field (``elem_id``: ``<task>--<field>``, for scripts and browser tests)."""
    component = _widget(gr, spec, session, task_cls)
    component.elem_id = elem_id
    return component


def _widget(gr: Any, spec: FieldSpec, session: Any, task_cls: Any) -> Any:
    label, info, value = spec.label + (" *" if spec.required else ""), spec.info, spec.initial
    if spec.widget == "textarea":
        return gr.Textbox(label=label, info=info, value=value, lines=4, max_lines=20)
    if spec.widget == "checkbox":
        return gr.Checkbox(label=label, info=info, value=bool(value))
    if spec.widget == "tristate":
        return gr.Radio(["auto", "true", "false"], label=label, info=info, value=value)
    if spec.widget == "slider":
        step = 1 if spec.type_name == "int" else 0.01
        return gr.Slider(spec.minimum, spec.maximum, value=value, step=step, label=label, info=info)
    if spec.widget == "number":
        precision = 0 if spec.type_name == "int" else None
        return gr.Number(label=label, info=info, value=value, precision=precision)  # the runner checks the range
    if spec.widget == "dropdown":
        return gr.Dropdown(list(spec.choices), value=value, label=label, info=info)
    if spec.widget == "tags":
        return gr.Dropdown(value, value=value, multiselect=True, allow_custom_value=True, label=label, info=info)
    if spec.widget == "model":
        choices = _models(session, task_cls, value)
        return gr.Dropdown(choices, value=value, allow_custom_value=True, label=label, info=info)
    if spec.widget == "audio":
        return gr.Audio(sources=["upload", "microphone"], type="filepath", label=label)
    if spec.widget == "file":
        return gr.File(label=label, file_types=list(spec.file_types) or None, type="filepath")
    if spec.widget == "mapping":
        return gr.Textbox(label=label, info=info + " (JSON or YAML)", value=value)
    return gr.Textbox(label=label, info=info, value=value, lines=1)


def _models(session: Any, task_cls: Any, default: Any) -> list[str]:
    """The installed packs that offer one of the task's capabilities, the default first."""
    needs = set(task_cls.needs)
    packs = [a for a, p in session.packs.items() if (not p.capabilities or set(p.capabilities) & needs)]
    installed = [a for a in packs if session.packs.get(a).installed()]
    return list(dict.fromkeys([*([default] if default else []), *installed]))


def _presets(session: Any, task: str) -> list[str]:
    """The ``preset=`` YAML files that select ``task``."""
    from taskdeck.engine.config import config_dirs

    found = []
    for folder in config_dirs(session):
        for path in sorted((folder / "preset").glob("*.yaml")):
            if f"override /task: {task}" in path.read_text(encoding="utf-8"):
                found.append(path.stem)
    return found


def _handler(gr: Any, runs: Runs, task_cls: Any, specs: list[FieldSpec], chat: bool) -> Any:
    """The Run button: compose, run in a worker, stream, then show the result by kind."""

    def handler(*args: Any) -> Iterator[list[Any]]:
        *values, backend, preset, batch, evaluate, outputs, extra, compare, slot, history, progress = args
        try:
            request = _request(task_cls, specs, values, backend, preset, batch, outputs, extra, compare, evaluate)
            conversation = list(history or [])
            if chat:
                _chat_request(request, specs, values, conversation)
            progress(0, desc="starting")
            job = runs.start(request)
        except Exception as exc:  # noqa: BLE001 - a bad value or override: one line on the page
            raise gr.Error(one_line(exc), print_exception=False) from None
        slot.job = job
        shown = ""
        try:
            while not job.done.wait(0.25):
                text = job.stream.getvalue()
                if text != shown:
                    shown = text
                    streamed = views.streaming(text, _pending(conversation, text) if chat else None)
                    yield _updates(gr, streamed, chat, history)
        except GeneratorExit:  # the client went away or cancelled: the run stops as Stop stops it
            threading.Thread(target=job.cancel, daemon=True, name="taskdeck-stop").start()
            raise
        finally:
            slot.job = None
        record = job.record
        out = views.view(job.result, record, job.run_dir, conversation if chat else None)
        out["status"] = views.status_line(record, request.command())
        if chat and out.get("chat"):
            history = out["chat"]
        yield _updates(gr, out, chat, history)
        if job.error is not None and not isinstance(job.error, KeyboardInterrupt):
            raise gr.Error(one_line(job.error), print_exception=False)

    return handler


def _request(
    task_cls: Any,
    specs: list[FieldSpec],
    values: list,
    backend: str,
    preset: str,
    batch: Any,
    outputs: Any,
    extra: str,
    compare: Any = None,
    evaluate: Any = None,
) -> Request:
    chosen = {s.key: value_of(s, v) for s, v in zip(specs, values)}
    if batch:
        chosen["input"] = upload_path(batch)
    if evaluate:
        chosen["eval"] = upload_path(evaluate)
    if outputs is not None and list(outputs) != list(task_cls.outputs):
        if not outputs:
            raise ValueError("choose at least one output format")
        chosen["output"] = list(outputs)
    sweep = [str(m).strip() for m in (compare or []) if str(m).strip()]
    if len(sweep) == 1:
        raise ValueError(f"compare models: name two or more (or set model={sweep[0]} for one run)")
    return Request(
        task=task_cls.name,
        values={k: v for k, v in chosen.items() if v is not MISSING and not (sweep and k == "model")},
        backend=backend or "auto",
        preset=preset or "",
        overrides=shlex.split(extra or ""),
        sweep=sweep,
    )


def _chat_request(request: Request, specs: list[FieldSpec], values: list, conversation: list) -> None:
    """A chat tab sends the conversation so far as ``conversation=<file>``, the message as ``prompt=``."""
    message = next((v for s, v in zip(specs, values) if s.widget == "textarea" and s.key == "prompt"), "")
    if conversation and "conversation" not in request.values:
        path = Path(tempfile.mkdtemp(prefix="taskdeck-chat-")) / "conversation.json"
        path.write_text(json.dumps(conversation, ensure_ascii=False), encoding="utf-8")
        request.values["conversation"] = str(path)
    conversation.append({"role": "user", "content": message})


def _pending(conversation: list, text: str) -> list:
    return [*conversation, {"role": "assistant", "content": text}]


def _updates(gr: Any, out: dict[str, Any], chat: bool, history: Any) -> list[Any]:
    """The slots' values (the API returns them as they are; ``_visibility`` then shows the
    slots that hold something). While text streams, the slots it does not use are kept."""
    streaming = out.get("record") is None
    values = [gr.update() if streaming and out.get(name) is None else out.get(name) for name in views.SLOTS]
    if not streaming:
        values[views.SLOTS.index("record")] = json.dumps(out["record"], indent=2, ensure_ascii=False, default=str)
    return [*values, history]


def _visibility(gr: Any, chat: bool) -> Any:
    """After a run: show the slots that hold a value, hide the others."""
    names = [n for n in views.SLOTS if n not in ALWAYS_SHOWN]

    def show(*values: Any) -> list[Any]:
        return [gr.update(visible=(chat and n == "chat") or _holds(v)) for n, v in zip(names, values)]

    return show


def _holds(value: Any) -> bool:
    if value is None:
        return False
    if hasattr(value, "empty"):  # a Dataframe arrives as pandas
        return not value.empty
    return bool(value) if isinstance(value, (str, list, dict, tuple)) else True


def _stop(slot: _Slot) -> str:
    job = slot.job
    if job is None:
        return "nothing is running"
    started = time.perf_counter()
    stopped = job.cancel()
    return "stopped" if stopped else f"stopping (still busy after {time.perf_counter() - started:.0f} s)"
