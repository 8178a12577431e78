"""What `atw` shows while a run works: one line per stage, the full logs in a file.

A run's steps come in stages (the loads, each dbt layer, the checks after it, the report,
retention). Dagster hands every event of the run to the loggers of the job; the `progress`
logger turns step events into one line per finished stage (and a progress bar on a terminal),
the `log_file` logger writes every event to the run's log file. Python loggers that print on
their own (dbt's lines relayed by dagster-dbt, warnings) are sent to the same file.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ingestion.core import settings

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# Python loggers that write to the console by themselves; in quiet mode they go to the file.
_CHATTY = ("dagster", "dagster_dbt", "py.warnings", "great_expectations", "alembic")


# A step's stage, by the start of its key (asset key paths are joined by `__`): each dbt step
# and the checks on the models it builds are one stage.
_STAGES = (
    ("raw__", "sources"),
    ("staging__", "staging models"),
    ("reference__", "staging models"),
    ("intermediate__int_agent_calls_unioned", "calls fact"),
    ("intermediate__int_anomalies", "monitoring marts"),
    ("marts__fct_anomalies", "monitoring marts"),
    ("marts__fct_alerts", "monitoring marts"),
    ("marts__fct_recommendations", "monitoring marts"),
    ("marts__alert_inbox", "monitoring marts"),
    ("marts__fct_data_quality", "monitoring marts"),
    ("intermediate__", "marts"),
    ("marts__", "marts"),
    ("reports__", "report"),
    ("ops__", "retention"),
)
_DBT_STEPS = {
    "dbt_staging": "staging models",
    "dbt_calls": "calls fact",
    "dbt_marts": "marts",
    "dbt_monitoring": "monitoring marts",
}


def stage_of(step_key: str) -> str:
    """The stage a step belongs to, as the progress line names it."""
    if step_key in _DBT_STEPS:
        return _DBT_STEPS[step_key]
    if step_key.endswith("_asset"):
        return "sources"
    for prefix, stage in _STAGES:
        if step_key.startswith(prefix):
            return stage
    return step_key.replace("_", " ")


@dataclass
class _Stage:
    name: str
    started: float
    steps: int = 0
    failed: int = 0


@dataclass
class StepProgress:
    """Collects step events into stages and prints each stage once it is over."""

    console: Console
    bar: Progress | None = None
    task: int | None = None
    current: _Stage | None = None
    stages: list[_Stage] = field(default_factory=list)

    def event(self, event: dg.DagsterEvent) -> None:
        kind = event.event_type_value
        if kind == "STEP_START" and event.step_key:
            stage = stage_of(event.step_key)
            if self.current is None or self.current.name != stage:
                self.finish()
                self.current = _Stage(stage, time.monotonic())
            if self.bar is not None:
                self.bar.update(self.task, description=f"{stage}: {event.step_key}")
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED") and self.current:
            self.current.steps += 1
            self.current.failed += kind == "STEP_FAILURE"
            if self.bar is not None:
                self.bar.advance(self.task)

    def finish(self) -> None:
        stage, self.current = self.current, None
        if stage is None or not stage.steps:
            return
        self.stages.append(stage)
        steps = f"{stage.steps} step{'s' if stage.steps != 1 else ''}"
        state = f"[red]{stage.failed} failed[/red]" if stage.failed else "[green]ok[/green]"
        seconds = time.monotonic() - stage.started
        self.console.print(
            f"  {stage.name:<18} {steps:>9} {seconds:>7.1f} s  {state}", highlight=False
        )


class _ProgressHandler(logging.Handler):
    def __init__(self, progress: StepProgress):
        super().__init__(logging.DEBUG)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is not None:
            self.progress.event(event)


_ACTIVE: list[StepProgress] = []


@dg.logger(description="One line per finished stage of the run (used by the `atw` commands).")
def progress_logger(_init_context) -> logging.Logger:
    logger = logging.getLogger("atw.progress")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.handlers = [_ProgressHandler(_ACTIVE[-1])] if _ACTIVE else []
    return logger


@dg.logger(
    config_schema={"path": str},
    description="Every event of the run, in the run's log file (used by `atw`).",
)
def log_file_logger(init_context) -> logging.Logger:
    logger = logging.getLogger("atw.run_log")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = logging.FileHandler(init_context.logger_config["path"], encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    logger.handlers = [handler]
    return logger


def new_log_path(command: str) -> Path:
    folder = settings.log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{command}-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"


@dataclass
class Session:
    """One command's output: where its log goes, whether it streams, its console."""

    log_path: Path
    verbose: bool
    console: Console

    def step(self, message: str) -> None:
        """One progress line of the command (not of a run's steps)."""
        self.console.print(f"[bold]>[/bold] {message}", highlight=False)

    def run_config(self) -> dict:
        """Loggers for a job run: the console at WARNING when verbose, else silent; every
        event in the log file; the stage lines."""
        console_level = "INFO" if self.verbose else "CRITICAL"
        return {
            "loggers": {
                "console": {"config": {"log_level": console_level}},
                "log_file": {"config": {"path": str(self.log_path)}},
                "progress": {},
            }
        }

    @contextmanager
    def tracking(self) -> Iterator[StepProgress]:
        """Stage lines while a run works, and a progress bar on a terminal."""
        progress = StepProgress(self.console)
        bar = None
        if self.console.is_terminal and not self.verbose:
            bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed} steps"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            progress.bar, progress.task = bar, bar.add_task("starting", total=None)
            bar.start()
        _ACTIVE.append(progress)
        try:
            yield progress
        finally:
            _ACTIVE.remove(progress)
            progress.finish()
            if bar is not None:
                bar.stop()


@contextmanager
def session(command: str, verbose: bool = False) -> Iterator[Session]:
    """Quiet by default: the chatty Python loggers write to the log file only; `verbose`
    streams them too."""
    path = new_log_path(command)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    saved = {}
    logging.captureWarnings(True)
    for name in _CHATTY:
        logger = logging.getLogger(name)
        saved[name] = (logger.handlers[:], logger.propagate)
        logger.addHandler(handler)
        if not verbose:
            logger.handlers = [handler]
            logger.propagate = False
    try:
        # The console keeps today's stdout: the run's own output is redirected to the log.
        yield Session(path, verbose, Console(file=sys.stdout, highlight=False, soft_wrap=True))
    finally:
        for name, (handlers, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = handlers, propagate
        logging.captureWarnings(False)
        handler.close()


LOGGERS = {"progress": progress_logger, "log_file": log_file_logger}
