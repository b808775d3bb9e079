"""Request and response bodies of the HTTP API, by direction (what clients send, what they get back)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crowdmocap_addon.core.options import CAPTURE_OPTIONS, ESTIMATORS, HTTP, POSE_BACKENDS, PRECISIONS, on

from ..pipeline.progress import STAGES
from .job_record import JobRecord

BIG = 10**9  # bound for frame numbers and counts: keeps requests inside what the pipeline's arrays handle

JobState = Literal["queued", "running", "done", "failed", "cancelled"]


class ErrorBody(BaseModel):
    code: str = Field(description="stable, machine-readable code (see docs/http-api.md)")
    message: str = Field(description="what went wrong, for people")


class ErrorResponse(BaseModel):
    error: ErrorBody


# -- health ---------------------------------------------------------------------------------------------


class ComponentStatus(BaseModel):
    usable: bool
    detail: str


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        "ok", description='"degraded" while something keeps jobs from running or being recorded (see `problems`)'
    )
    problems: list[str] = Field(default_factory=list, description="what is wrong, e.g. a full disk; empty when ok")
    version: str
    device: str = Field(description='"cpu" or "cuda (GPU name)": where jobs run')
    estimators: dict[str, ComponentStatus]
    pose_backends: dict[str, ComponentStatus]
    missing_models: list[str] = Field(description="model files not found; `crowdmocap-server models` lists them")
    token_required: bool
    max_upload_mb: int
    path_submission: bool = Field(description="whether jobs may name footage already on the server (--allow-path)")


# -- uploads --------------------------------------------------------------------------------------------


class UploadInfo(BaseModel):
    upload_id: str
    filename: str
    size: int = Field(description="bytes received")
    width: int
    height: int
    fps: float
    frame_count: int = Field(description="from the container; an estimate for some formats")


# -- jobs -----------------------------------------------------------------------------------------------


def _field(name: str, **extra: Any) -> Any:
    """A pydantic field with the option table's default, bounds and help for the HTTP surface."""
    option = on(HTTP, CAPTURE_OPTIONS)[name]
    bounds = {key: value for key, value in (("ge", option.minimum), ("le", option.maximum)) if value is not None}
    return Field(option.default, description=option.help, **{**bounds, **extra})


class JobOptions(BaseModel):
    """CaptureOptions without file paths or device: model files and the device are the server's own."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    pose_backend: Literal[POSE_BACKENDS] = _field("pose_backend")  # type: ignore[valid-type]
    estimator: Literal[ESTIMATORS] = _field("estimator")  # type: ignore[valid-type]
    start: int = Field(0, ge=0, le=BIG, description="first frame")
    stop: int | None = Field(None, ge=1, le=BIG, description="frame to stop before")
    stride: int = Field(1, ge=1, le=BIG, description="process every n-th frame")
    max_people: int | None = Field(None, ge=1, le=BIG, description="keep the N longest tracks")
    min_track_length: int = _field("min_track_length", le=BIG)
    relink: bool = _field("relink")
    tracked_regions: bool = _field("tracked_regions")
    smoothing: float = _field("smoothing")
    still_camera: bool = _field("still_camera")
    focal_px: float | None = Field(None, gt=0, le=1e6)
    focal_mm: float | None = Field(None, gt=0, le=1e4)
    sensor_width_mm: float | None = Field(None, gt=0, le=1e3)
    fov_deg: float | None = Field(None, gt=0, lt=180)
    rois: int = _field("rois")
    batch_size: int | None = _field("batch_size")
    precision: Literal[PRECISIONS] = _field("precision")  # type: ignore[valid-type]
    foot_lock: bool = _field("foot_lock")
    ground_feet: bool = _field("ground_feet")
    fix_facing: bool = _field("fix_facing")
    temporal_fit: bool = _field("temporal_fit")
    fit_smoothness: float = _field("fit_smoothness")
    top_speed: float = _field("top_speed")
    preview: bool = Field(False, description="also render an overlay video (GET /v1/jobs/{id}/preview)")

    def capture_values(self) -> dict[str, Any]:
        """The CaptureOptions fields this model holds (everything but ``preview``)."""
        return self.model_dump(exclude={"preview"})


class _Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    options: JobOptions = Field(default_factory=JobOptions)


class JobFromUpload(_Submission):
    """Capture footage sent earlier to ``POST /v1/uploads`` (each upload serves one job)."""

    upload_id: str = Field(pattern=r"^[A-Za-z0-9_-]{22}$", description="from POST /v1/uploads")


class JobFromPath(_Submission):
    """Capture footage already on the server, under a folder the server allows (``--allow-path``)."""

    path: str = Field(min_length=1, max_length=4096, description="absolute path on the server")


JobSubmit = JobFromUpload | JobFromPath


class StageProgress(BaseModel):
    stage: str
    done: int
    total: int = Field(description="0 when unknown")
    unit: str = Field(description='what is counted: "frames", "people" or "files"')
    eta_s: float | None = Field(description="seconds left in this stage; null before the rate is known")
    message: str = ""


class JobError(BaseModel):
    code: str
    message: str
    stage: str | None = None
    frame: int | None = None


class JobSummary(BaseModel):
    people: int
    frames: int
    estimator: str
    pose_backend: str
    warnings: list[str]
    seconds: float
    preview: bool = Field(description="whether a preview video was written")


class JobSource(BaseModel):
    kind: Literal["upload", "path"]
    name: str


class JobStatus(BaseModel):
    id: str
    state: JobState
    queue_position: int | None = Field(description="jobs that run before this one (the running one included)")
    source: JobSource
    options: JobOptions
    stage: str | None = Field(description="the stage running now, or the last one that ran")
    progress: list[StageProgress] = Field(description="latest progress of each stage reached, in pipeline order")
    error: JobError | None
    created: datetime
    started: datetime | None
    finished: datetime | None
    notes: list[str]
    summary: JobSummary | None

    @classmethod
    def from_record(cls, record: JobRecord, queue_position: int | None) -> JobStatus:
        order = {stage: index for index, stage in enumerate(STAGES)}
        progress = sorted(record.progress.values(), key=lambda p: order.get(p.stage, len(order)))
        known = {key: value for key, value in record.options.items() if key in JobOptions.model_fields}  # older files
        return cls(
            id=record.id,
            state=record.state,  # type: ignore[arg-type]
            queue_position=queue_position,
            source=JobSource(kind=record.source_kind, name=record.source_name),  # type: ignore[arg-type]
            options=JobOptions.model_validate(known),
            stage=record.stage,
            progress=[StageProgress.model_validate(asdict(p)) for p in progress],
            error=JobError.model_validate(asdict(record.error)) if record.error else None,
            created=datetime.fromisoformat(record.created),
            started=datetime.fromisoformat(record.started) if record.started else None,
            finished=datetime.fromisoformat(record.finished) if record.finished else None,
            notes=list(record.notes),
            summary=JobSummary.model_validate(asdict(record.summary)) if record.summary else None,
        )


class JobList(BaseModel):
    jobs: list[JobStatus]


class Deleted(BaseModel):
    id: str
    deleted: Literal[True] = True
