"""``task=ui``: every registered task in one local Gradio app.

A front end beside the command line: a tab per task (third-party ones included) with a form
made from its Params, run through the same Runner (``jobs.py``), results shown by kind
(``views.py``), each tab an API endpoint named after its task (``page.py``). Models stay
loaded between requests (:class:`taskdeck.engine.model_cache.ModelCache`). gradio is imported only
when the app starts, so listing the plugins stays fast.

Offline by default: analytics off, no share link unless ``share=true``, bound to 127.0.0.1;
another ``host=`` needs ``auth_env=`` naming a variable that holds ``user:password`` (the
password never lands in the run directory).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck import ConfigError, MissingDependencyError, Report, Section, Task, hookimpl, param
from taskdeck.helpers.signals import stoppable

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class UiTask(Task):
    name = "ui"
    description = "serve every task as a local web app (Gradio), each also an API endpoint"
    outputs = ("text", "json")

    @dataclass
    class Params:
        port: int = param(7860, "port to serve on (0: the first free one from 7860)", ge=0, le=65535)
        host: str = param("127.0.0.1", "address to bind; anything but loopback needs auth_env=")
        auth_env: Optional[str] = param(None, "environment variable holding user:password for the page")
        share: bool = param(False, "ask Gradio for a public share link (needs the internet)")
        tasks: list = param([], "only these tasks' tabs (default: every registered task)")
        keep_models: int = param(3, "loaded models kept between requests (least recently used out)", ge=1)
        concurrency: int = param(1, "runs at once (each model still serves one call at a time)", ge=1)
        queue: int = param(32, "runs waiting at most; more are refused ('the queue is full'), try again later", ge=1)
        open_browser: bool = param(False, "open the page in the default browser")
        max_file_size: str = param("2gb", "largest upload, e.g. 500mb")

    def run(self, params: Any, ctx: Any) -> Report:
        with stoppable():  # SIGINT and SIGTERM stop it, whatever the parent process ignores
            server = serve(params, stream=ctx.stream)
            started = time.time()
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
            finally:
                server.close()
        rows = [{"url": server.url, "served_s": round(time.time() - started, 1), "runs": server.runs_started}]
        return Report("taskdeck ui", [Section("served", rows)])


class Server:
    """A launched app and what it holds (models, the Gradio app)."""

    def __init__(self, demo: Any, url: str, models: Any, runs: Any):
        self.demo, self.url, self.models, self.runs = demo, url, models, runs

    @property
    def runs_started(self) -> int:
        return self.runs.started

    def close(self) -> None:
        """Stop: runs in progress end as interrupted (their run directories say so), then the
        app and the models go."""
        self.runs.stop_all()
        self.demo.close()
        self.models.clear()


def serve(params: Any, session: Any = None, stream: Any = sys.stdout) -> Server:
    """Build and launch the app without blocking; ``Server.close()`` stops it."""
    from taskdeck.engine.model_cache import ModelCache
    from taskdeck.engine.plugin_manager import get_session

    auth = _auth(params)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # no telemetry, no version check
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise MissingDependencyError("gradio", "task=ui", "ui") from None
    from .jobs import Runs
    from .page import CSS, build

    session = session or get_session()
    models = ModelCache(params.keep_models)
    runs = Runs(session, models)
    demo = build(session, runs, [str(t) for t in params.tasks] or None, params.concurrency)
    demo.queue(default_concurrency_limit=params.concurrency, max_size=params.queue)
    outputs = os.path.abspath("outputs")
    os.makedirs(outputs, exist_ok=True)
    try:
        _, url, share_url = demo.launch(
            server_name=params.host,
            server_port=_port(params),
            auth=auth,
            share=params.share,
            prevent_thread_lock=True,
            quiet=True,
            inbrowser=params.open_browser,
            allowed_paths=[outputs],
            max_file_size=params.max_file_size,
            ssr_mode=False,
            footer_links=["api", "settings"],
            css=CSS,
        )
    except OSError as exc:
        demo.close()
        raise ConfigError(f"cannot serve on {params.host}:{params.port} ({exc}); choose another port=") from None
    except BaseException:  # stopped while starting: nothing left serving
        demo.close()
        raise
    url = share_url or url
    print(f"taskdeck ui on {url} (Ctrl-C stops it)", file=stream, flush=True)
    return Server(demo, url, models, runs)


def _auth(params: Any) -> Optional[tuple[str, str]]:
    if params.auth_env:
        value = os.environ.get(params.auth_env, "")
        if ":" not in value:
            raise ConfigError(f"auth_env={params.auth_env}: set that variable to user:password")
        user, _, password = value.partition(":")
        return user, password
    if params.host not in LOOPBACK or params.share:
        where = "share=true" if params.share else f"host={params.host}"
        raise ConfigError(
            f"{where} makes the page reachable from other machines: add auth_env=<VARIABLE> "
            "holding user:password (export TASKDECK_UI_AUTH=me:secret; auth_env=TASKDECK_UI_AUTH)"
        )
    return None


def _port(params: Any) -> Optional[int]:
    """``port=0``: the first free port from 7860 (Gradio's search)."""
    return int(params.port) or None


@hookimpl
def register_tasks(register: Any) -> None:
    register(UiTask)
