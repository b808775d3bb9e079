"""One job as the server keeps it (in memory and in ``jobs/<id>/job.json``): typed, with its JSON form.

Progress, failure and outcome are small frozen records rather than dicts, so the worker cannot store a
misspelt key and the routes read what the worker wrote; ``from_json`` accepts the files older servers
wrote (unknown keys are ignored, missing optional ones take their defaults).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from .ids import is_valid_id

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
TERMINAL = frozenset({DONE, FAILED, CANCELLED})
MAX_INTERRUPTIONS = 2  # a job stopped this often while running (restart or crash) is failed, not re-run


def _known(cls: type, raw: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in raw.items() if key in names}


@dataclass(frozen=True, kw_only=True)
class StageProgress:
    """The latest progress of one stage (a ``ProgressEvent`` as stored)."""

    stage: str
    done: int
    total: int  # 0 when unknown
    unit: str
    eta_s: float | None = None
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class JobFailure:
    """Why a job failed: a stable code for programs, a message for people, where it happened."""

    code: str
    message: str
    stage: str | None = None
    frame: int | None = None


@dataclass(frozen=True, kw_only=True)
class JobOutcome:
    """What a finished capture produced."""

    people: int
    frames: int
    estimator: str
    pose_backend: str
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    preview: bool = False  # whether a preview video was written


@dataclass(kw_only=True)
class JobRecord:
    """One job; ``input_path`` is a server path the client never sees."""

    id: str
    seq: int  # creation order; the queue runs in this order
    created: str
    source_kind: str  # "upload" or "path"
    source_name: str  # the upload's file name or the path the client gave
    input_path: str
    options: dict[str, Any]  # JobOptions as JSON
    state: str = QUEUED
    started: str | None = None
    finished: str | None = None
    stage: str | None = None  # the stage now running (or last run)
    progress: dict[str, StageProgress] = field(default_factory=dict)  # by stage
    error: JobFailure | None = None
    notes: list[str] = field(default_factory=list)
    summary: JobOutcome | None = None
    interruptions: int = 0  # times the server stopped (or died) while this job ran
    cancel_requested: bool = False  # a client asked a running job to stop: honoured even after a crash

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> JobRecord:
        """The record ``job.json`` holds; ValueError/TypeError when it is not one.

        Every field is checked for its type (and times for being ISO dates) here, on load: a record that
        loaded but could not be served would make every ``GET /v1/jobs`` fail.
        """
        if not isinstance(raw, dict):
            raise TypeError(f"a job record is a JSON object, not {type(raw).__name__}")
        _check_record(raw)
        values = _known(cls, raw)
        values["progress"] = {stage: StageProgress(**_known(StageProgress, entry))
                              for stage, entry in (values.get("progress") or {}).items()}  # fmt: skip
        if values.get("error") is not None:
            values["error"] = JobFailure(**_known(JobFailure, values["error"]))
        if values.get("summary") is not None:
            summary = _known(JobOutcome, values["summary"])
            values["summary"] = JobOutcome(**{**summary, "warnings": tuple(summary.get("warnings", ()))})
        record = cls(**values)
        if record.state not in STATES or not is_valid_id(record.id):
            raise ValueError(f"bad state {record.state!r} or id {record.id!r}")
        return record


def interrupted(record: JobRecord, cause: str, at: str) -> JobRecord:
    """A running job's record once the server stopped running it (``cause``: "a server restart at ...").

    Re-queued the first time; failed the second, so a job that brings the server down cannot do it on
    every start; cancelled if a client had asked it to stop, which a crash must not undo.
    """
    count = record.interruptions + 1
    if record.cancel_requested:
        return replace(
            record,
            state=CANCELLED,
            finished=at,
            interruptions=count,
            notes=[*record.notes, f"interrupted by {cause}; it had been asked to stop, so it is cancelled"],
        )
    if count >= MAX_INTERRUPTIONS:
        failure = JobFailure(
            code="interrupted",
            stage=record.stage,
            message=f"the job was interrupted {count} times while it ran (server restarts or "
            f"crashes), the last by {cause}; it is not run again: submit it again to retry",
        )
        return replace(
            record,
            state=FAILED,
            finished=at,
            interruptions=count,
            error=failure,
            notes=[*record.notes, f"interrupted by {cause}; failed"],
        )
    return replace(record, state=QUEUED, started=None, stage=None, progress={}, interruptions=count,
                   notes=[*record.notes, f"interrupted by {cause}; re-queued"])  # fmt: skip


def _kind(value: Any, kinds: tuple[type, ...], where: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        raise TypeError(f"{where} is {value!r}, expected {' or '.join(k.__name__ for k in kinds)}")


def _when(value: Any, where: str, *, optional: bool = False) -> None:
    _kind(value, (str,), where, optional=optional)
    if value is not None:
        try:
            datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{where} {value!r} is not an ISO date") from exc


def _check_record(raw: dict[str, Any]) -> None:
    """Raise TypeError/ValueError naming the first field of a job.json that is not what the server writes."""
    number = (int, float)
    for name in ("id", "created", "source_kind", "source_name", "input_path", "state"):
        _kind(raw.get(name), (str,), name)
    _kind(raw.get("seq"), (int,), "seq")
    _when(raw["created"], "created")
    for name in ("started", "finished"):
        _when(raw.get(name), name, optional=True)
    _kind(raw.get("stage"), (str,), "stage", optional=True)
    _kind(raw.get("interruptions", 0), (int,), "interruptions")
    _kind(raw.get("cancel_requested", False), (bool,), "cancel_requested")
    _kind(raw.get("options"), (dict,), "options")
    _kind(raw.get("notes", []), (list,), "notes")
    for note in raw.get("notes", []):
        _kind(note, (str,), "a note")
    progress = raw.get("progress") or {}
    _kind(progress, (dict,), "progress")
    for stage, entry in progress.items():
        _kind(entry, (dict,), f"progress[{stage!r}]")
        for name, kinds in (("stage", (str,)), ("done", (int,)), ("total", (int,)), ("unit", (str,))):
            _kind(entry.get(name), kinds, f"progress[{stage!r}].{name}")
        _kind(entry.get("eta_s"), number, f"progress[{stage!r}].eta_s", optional=True)
    if raw.get("error") is not None:
        error = raw["error"]
        _kind(error, (dict,), "error")
        _kind(error.get("code"), (str,), "error.code")
        _kind(error.get("message"), (str,), "error.message")
        _kind(error.get("frame"), (int,), "error.frame", optional=True)
    if raw.get("summary") is not None:
        summary = raw["summary"]
        _kind(summary, (dict,), "summary")
        for name, kinds in (("people", (int,)), ("frames", (int,)), ("estimator", (str,)), ("pose_backend", (str,))):
            _kind(summary.get(name), kinds, f"summary.{name}")
        _kind(summary.get("seconds", 0.0), number, "summary.seconds")
