"""The runner: config → task, backend, formatters → run → outputs + result.json.

Data flows one way: run.py → app → runner → task stages → backend → result → formatter.
Every value is checked (required inputs, ranges and choices, output formats, the eval
plan) before anything loads.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TextIO

from ..errors import ConfigError, MissingInputError, TaskdeckError, stopped_by
from ..io import atomic_write_json
from ..params import check_values
from ..plugin_api import BUILTIN_PREFIX, PluginContractError, calling
from ..stopwatch import peak_gpu_mb, peak_rss_mb, reset_peaks
from .batch import BatchResult, parse_shard, run_batch_file, shard_results
from .config import backend_params, task_params
from .eval_plan import EvalPlan, plan
from .session_context import SessionContext

if TYPE_CHECKING:
    from ..results import Result
    from .model_cache import ModelCache
    from .plugin_manager import Session


def output_names(value: Any) -> list[str]:
    """``output=json`` or ``output=[json,markdown]`` or ``output=json,markdown`` → names."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value]


class Runner:
    """Runs one task from a composed config and records what happened."""

    def __init__(
        self,
        session: Session,
        cfg: Any,
        run_dir: Path,
        stream: TextIO = sys.stdout,
        models: Optional[ModelCache] = None,
    ):
        self.session, self.cfg, self.run_dir, self.stream = session, cfg, Path(run_dir), stream
        self.models = models  # a server's cache of loaded models (task=ui); None: the run loads its own
        self.record: dict[str, Any] = {"status": "running", "task": str(cfg.task)}
        self.result: Optional[Result] = None

    def run(self) -> dict[str, Any]:
        """Run the task; always writes ``result.json``; re-raises the failure, if any."""
        t0 = time.perf_counter()
        reset_peaks()
        ctx: Optional[SessionContext] = None
        try:
            task_cls = self.session.tasks.get(str(self.cfg.task))
            params = task_params(task_cls, self.cfg)
            evaluation = self._evaluation(task_cls)
            batch_input = self.cfg.get("input") or self.cfg.get("eval")
            shard = parse_shard(self.cfg.get("shard"))
            if shard and not batch_input:
                raise ConfigError("shard= splits a batch: give input=<file> (or eval=<file>) as well")
            missing = [m for m in task_cls.missing_inputs(params) if not (batch_input and m in task_cls.batch_fields)]
            if missing:
                raise MissingInputError(task_cls.name, missing)
            check_values(params)
            backend = backend_params(self.session, self.cfg)
            check_values(backend, prefix="backend.")
            formatters = [self.session.formatters.get(n) for n in output_names(self.cfg.output)]
            ctx = SessionContext(
                self.session,
                backend,
                self.run_dir,
                self.stream,
                quiet=bool(self.cfg.get("quiet", False)),
                models=self.models,
            )
            self.record.update({"model": getattr(params, "model", None)})
            if batch_input:
                self.record.update(input=str(batch_input), shard=self.cfg.get("shard"))
            owner = self.session.tasks.owner(self.session.tasks.canonical(str(self.cfg.task)))
            with ctx.watch.time("run"), calling(owner), _named(owner, f"task '{task_cls.name}'"):
                if batch_input:
                    self.result = run_batch_file(
                        task_cls(),
                        task_cls,
                        params,
                        ctx,
                        batch_input,
                        self.cfg.get("column"),
                        shard_results(self.cfg.get("results"), shard),
                        shard,
                        self.cfg.get("split"),
                        str(self.cfg.get("table") or "csv"),
                        self.cfg.get("subset"),
                    )
                else:
                    self.result = _checked_result(task_cls().run(params, ctx), owner, task_cls.name)
            if evaluation is not None and isinstance(self.result, BatchResult):
                ctx.metrics.update(evaluation.score(Path(self.result.results)))
            written = self._write(formatters, task_cls.name, task_cls)
            self.record.update(status="ok", outputs=written, result=self.result.to_dict())
        except TaskdeckError as exc:
            self.record.update(status="error", error=str(exc), error_type=type(exc).__name__)
            raise
        except KeyboardInterrupt as exc:
            self.record.update(status="interrupted", error=stopped_by(exc))
            raise
        except Exception as exc:
            self.record.update(status="error", error=f"{type(exc).__name__}: {exc}", error_type=type(exc).__name__)
            raise
        finally:
            self._finish(ctx, t0)
        return self.record

    def _evaluation(self, task_cls: type) -> Optional[EvalPlan]:
        """``eval=<file>``: checked before anything loads; the file is the batch input."""
        path, given = self.cfg.get("eval"), self.cfg.get("input")
        if not path:
            return None
        if given and Path(given).expanduser().resolve() != Path(path).expanduser().resolve():
            raise ConfigError(f"eval={path} is the batch input already: drop input={given}")
        found = plan(task_cls, str(path), self.cfg.get("gold"), self.cfg.get("split"), self.cfg.get("subset"))
        self.record.update(eval=str(path), eval_plan=found.describe())
        return found

    def _write(self, formatters: list, stem: str, task_cls: Optional[type] = None) -> list[str]:
        assert self.result is not None
        if (
            isinstance(self.result, BatchResult)
            and task_cls is not None
            and output_names(self.cfg.output) == list(getattr(task_cls, "outputs", ()))
        ):
            # the task's default outputs (e.g. asr's srt) are for one result: a batch keeps those that fit
            formatters = [f for f in formatters if f.accepts(self.result)]
        unfit = [f.name for f in formatters if not f.accepts(self.result)]
        if unfit:
            fit = [n for n, f in self.session.formatters.items() if f.accepts(self.result)]
            raise ConfigError(
                f"output format {', '.join(unfit)} cannot write a '{self.result.kind}' "
                f"result; choose from: {', '.join(fit)}"
            )
        written = []
        for f in formatters:
            owner = self.session.formatters.owner(f.name)
            with calling(owner), _named(owner, f"output format '{f.name}'"):
                path = f.write(self.result, self.run_dir, stem, self.stream)
            if path is not None and not isinstance(path, (str, os.PathLike)):
                raise PluginContractError(
                    f"plugin '{owner}': output format '{f.name}' returned {type(path).__name__} from write(): "
                    "return the path it wrote, or None for terminal output"
                )
            if path is not None:
                written.append(str(path))
        return written

    def _finish(self, ctx: Optional[SessionContext], t0: float) -> None:
        wall = time.perf_counter() - t0
        metrics: dict[str, Any] = {"wall_s": round(wall, 3)}
        if ctx is not None:
            load = ctx.watch.spans.get("load", 0.0)
            metrics["load_s"] = round(load, 3)
            metrics["run_s"] = round(ctx.watch.spans.get("run", 0.0) - load, 3)
            metrics.update(ctx.metrics)
            items = ctx.metrics.get("items")
            if items and metrics["run_s"] > 0:
                metrics["items_per_s"] = round(items / metrics["run_s"], 3)
            if isinstance(self.result, BatchResult) and ctx.metrics.get("completion_tokens") and metrics["run_s"] > 0:
                # a batch's generation speed: every row's tokens over the whole run
                metrics["tokens_per_s"] = round(ctx.metrics["completion_tokens"] / metrics["run_s"], 2)
            self.record["models"] = ctx.models_used
            ctx.close()
        metrics["peak_rss_mb"] = peak_rss_mb()
        gpu = peak_gpu_mb()
        if gpu is not None:
            metrics["peak_gpu_mb"] = gpu
        self.record["metrics"] = metrics
        self.record["run_dir"] = str(self.run_dir)
        atomic_write_json(self.run_dir / "result.json", self.record)


def _checked_result(result: Any, owner: str, task: str) -> Result:
    """A task's ``run`` must hand back a Result, which the formatters and result.json read."""
    from ..results import Result

    if not isinstance(result, Result):
        raise PluginContractError(
            f"plugin '{owner}': task '{task}' returned {type(result).__name__} from run(): "
            "return a taskdeck.Result, e.g. taskdeck.Text(...)"
        )
    return result


@contextmanager
def _named(owner: str, what: str) -> Iterator[None]:
    """A third-party plugin's unexpected exception, named: the plugin, its part, the error."""
    try:
        yield
    except (TaskdeckError, KeyboardInterrupt):
        raise
    except Exception as exc:
        if owner.startswith(BUILTIN_PREFIX):
            raise
        raise PluginContractError(f"plugin '{owner}': {what} failed: {type(exc).__name__}: {exc}") from exc


def run_task(session: Session, cfg: Any, run_dir: Path, stream: TextIO = sys.stdout) -> dict[str, Any]:
    """Convenience: run the task ``cfg.task`` and return the ``result.json`` record."""
    return Runner(session, cfg, run_dir, stream).run()
