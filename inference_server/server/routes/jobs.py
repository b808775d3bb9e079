"""``/v1/jobs``: submit footage for capture, follow it, fetch the result and preview, cancel, delete."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, StreamingResponse

from ...pipeline.options import CaptureOptions, OptionsError
from ...pipeline.progress import PipelineError
from ..context import Ctx, ServerContext
from ..errors import ApiError
from ..events import job_events
from ..ids import is_valid_id, new_id
from ..job_files import PREVIEW_FILE, RESULT_FILE, JobNotFoundError
from ..job_record import CANCELLED, DONE, JobRecord
from ..paths import resolve_allowed_path
from ..request_guard import require_json
from ..results import json_result
from ..schemas import Deleted, ErrorResponse, JobFromPath, JobList, JobStatus, JobSubmit
from ..uploads import probe_video

router = APIRouter(prefix="/jobs", tags=["jobs"])

NOT_FOUND = {404: {"model": ErrorResponse, "description": "no such job"}}
REFUSED_OPTIONS = (
    "the request does not match the schema, or its options do not fit the footage or the server "
    "(invalid_options, missing_model); nothing is stored or queued"
)
NOT_FINISHED = {409: {"model": ErrorResponse, "description": "the job has not finished successfully"}}
EVENT_EXAMPLE = (
    'event: status\ndata: {"id": "q3VnV2k1cZ8Wc1x0aJ3B5w", "state": "running", "queue_position": null, '
    '"stage": "poses", "...": "..."}\n\n: keep-alive\n\nevent: status\ndata: {"id": "q3VnV2k1cZ8Wc1x0aJ3B5w", '
    '"state": "done", "...": "..."}\n\n'
)
EVENTS = {
    "description": (
        "Server-sent events (text/event-stream). `event: status` whenever the job changes: its `data` is one "
        "line of JSON, a JobStatus (the same object as GET /v1/jobs/{job_id}; schema "
        "#/components/schemas/JobStatus, also named in x-event-data). The stream ends after a terminal state "
        "(done, failed, cancelled), or with `event: deleted` whose data is `{\"id\": ...}` when the job is "
        "deleted. Lines starting with `:` are keep-alive comments, sent on quiet streams."
    ),
    "content": {
        "text/event-stream": {
            "schema": {"type": "string", "description": "`event: <name>` and `data: <JSON>` lines, a blank line "
                       "after each event"},
            "example": EVENT_EXAMPLE,
            "x-event-data": {"status": {"$ref": "#/components/schemas/JobStatus"},
                             "deleted": {"type": "object", "properties": {"id": {"type": "string"}}}},
        }
    },
}  # fmt: skip


def _not_found(job_id: str) -> ApiError:
    return ApiError(404, "job_not_found", f"no job {job_id!r}")


@contextmanager
def _known_job(job_id: str) -> Iterator[None]:
    """A 404 for an id that is malformed (never reaches the store) or that the store does not know."""
    if not is_valid_id(job_id):
        raise _not_found(job_id)
    try:
        yield
    except JobNotFoundError:
        raise _not_found(job_id) from None


def _status(ctx: ServerContext, job_id: str) -> JobStatus:
    snap = ctx.jobs.snapshot(job_id) if is_valid_id(job_id) else None
    if snap is None:
        raise _not_found(job_id)
    _, record, position = snap
    return JobStatus.from_record(record, position)


def _finished_record(ctx: ServerContext, job_id: str) -> JobRecord:
    with _known_job(job_id):
        record = ctx.jobs.get(job_id)
    if record.state != DONE:
        raise ApiError(409, "job_not_finished", f"job {job_id} is {record.state}; its files exist once it is done")
    return record


def _download_name(record: JobRecord, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", record.source_name.rsplit("/", 1)[-1].rsplit(".", 1)[0]).strip("._")
    return f"{stem or 'capture'}{suffix}"


@router.post(
    "",
    response_model=JobStatus,
    status_code=202,
    summary="Queue a capture of an upload or of an allowed server path",
    dependencies=[Depends(require_json)],
    responses={
        400: {"model": ErrorResponse, "description": "the body is not valid JSON (malformed_json)"},
        403: {"model": ErrorResponse, "description": "path submission not allowed, or outside the allowed folders"},
        404: {"model": ErrorResponse, "description": "no such upload or path"},
        415: {
            "model": ErrorResponse,
            "description": "the body is not application/json, or the path is not a readable video",
        },
        422: {"model": ErrorResponse, "description": REFUSED_OPTIONS},
        507: {"model": ErrorResponse, "description": "the server's disk is full: the job cannot be recorded"},
    },
)
def submit_job(body: JobSubmit, ctx: Ctx) -> JobStatus:
    try:
        options = CaptureOptions.from_dict({**body.options.capture_values(), **ctx.settings.capture_overrides()})
    except OptionsError as exc:
        raise ApiError(422, "invalid_options", str(exc)) from exc
    job_id = new_id()
    folder = ctx.jobs.job_dir(job_id)
    if isinstance(body, JobFromPath):
        source = resolve_allowed_path(body.path, ctx.settings.allowed_paths)
        check_job(options, probe_video(source, body.path), body.path)
        folder.mkdir()
        kind, name = "path", body.path
    else:
        described = ctx.uploads.describe(body.upload_id)
        if described is None:
            raise ApiError(404, "upload_not_found", f"no upload {body.upload_id!r} (each upload serves one job)")
        check_job(options, described, str(described.get("filename", "upload")))  # the upload stays on a refusal
        folder.mkdir()
        try:
            source, name = ctx.uploads.take(body.upload_id, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        kind = "upload"
    try:
        record = ctx.jobs.create(job_id, source_kind=kind, source_name=name, input_path=source,
                                 options=body.options.model_dump())  # fmt: skip
    except OSError as exc:  # a full disk: the job would exist in memory only, and vanish on a restart
        shutil.rmtree(folder, ignore_errors=True)
        message = (f"the server's disk is full ({exc.strerror or exc}); free space on the server and submit the "
                   "job again (an upload must be sent again)")  # fmt: skip
        raise ApiError(507, "insufficient_storage", message) from exc
    return JobStatus.from_record(record, ctx.jobs.queue_position(job_id))


def check_job(options: CaptureOptions, video: dict[str, Any], shown_name: str) -> None:
    """The pipeline's own checks (``check_capture``) on the probed footage, before anything is stored or queued.

    A job the server accepts can then fail only for what no check can foresee (a file that breaks part-way,
    a model that crashes), never for options it could have refused with a 422 at once.
    """
    from ...footage.reader import FootageInfo
    from ...pipeline.model_plan import MissingModelError
    from ...pipeline.run import check_capture

    try:
        info = FootageInfo(path=shown_name, width=int(video["width"]), height=int(video["height"]),
                           fps=Fraction(video["fps"]).limit_denominator(100000),
                           frame_count=int(video["frame_count"]))  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiError(404, "upload_not_found", f"the upload {shown_name!r} is damaged; upload the file again") from exc
    try:
        check_capture(options, info)
    except MissingModelError as exc:
        raise ApiError(422, "missing_model", str(exc)) from exc
    except OptionsError as exc:
        raise ApiError(422, "invalid_options", str(exc)) from exc
    except PipelineError as exc:  # frames too small for the chosen pose backend
        raise ApiError(422, "invalid_options", exc.cause) from exc


@router.get("", response_model=JobList, summary="Every job, oldest first")
def list_jobs(ctx: Ctx) -> JobList:
    return JobList(jobs=[JobStatus.from_record(record, position) for record, position in ctx.jobs.list()])


@router.get(
    "/{job_id}", response_model=JobStatus, summary="A job's state, queue position and progress", responses=NOT_FOUND
)
def get_job(job_id: str, ctx: Ctx) -> JobStatus:
    return _status(ctx, job_id)


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    summary="Server-sent events: the job's status on every change, until it ends",
    responses={**NOT_FOUND, 200: EVENTS},
)
async def follow_job(job_id: str, ctx: Ctx) -> StreamingResponse:
    _status(ctx, job_id)  # 404 before the stream starts
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(job_events(ctx.jobs, job_id), media_type="text/event-stream", headers=headers)


@router.get(
    "/{job_id}/result",
    response_class=FileResponse,
    summary="The result file (.npz), or the same content as JSON",
    responses={**NOT_FOUND, **NOT_FINISHED,
               200: {"description": "the result", "content": {"application/octet-stream": {}, "application/json": {}}}},
)  # fmt: skip
def get_result(
    job_id: str,
    ctx: Ctx,
    result_format: Annotated[
        Literal["npz", "json"], Query(alias="format", description="npz (the result file) or json")
    ] = "npz",
) -> FileResponse:
    record = _finished_record(ctx, job_id)
    path = ctx.jobs.job_dir(job_id) / RESULT_FILE
    if not path.is_file():
        raise ApiError(410, "result_missing", f"job {job_id} finished but its result file is gone")
    if result_format == "json":
        return FileResponse(json_result(path), media_type="application/json",
                            filename=_download_name(record, ".json"))  # fmt: skip
    return FileResponse(path, media_type="application/octet-stream", filename=_download_name(record, ".npz"))


@router.get(
    "/{job_id}/preview",
    response_class=FileResponse,
    summary="The preview video (mp4), for jobs submitted with options.preview",
    responses={**NOT_FOUND, **NOT_FINISHED, 200: {"description": "the video", "content": {"video/mp4": {}}}},
)
def get_preview(job_id: str, ctx: Ctx) -> FileResponse:
    record = _finished_record(ctx, job_id)
    path = ctx.jobs.job_dir(job_id) / PREVIEW_FILE
    if not record.options.get("preview"):
        raise ApiError(404, "no_preview", f"job {job_id} was not asked for a preview (options.preview)")
    if not path.is_file():
        raise ApiError(410, "preview_missing", f"job {job_id} finished but its preview video is missing")
    return FileResponse(path, media_type="video/mp4", filename=_download_name(record, "_preview.mp4"))


@router.post(
    "/{job_id}/cancel",
    response_model=JobStatus,
    summary="Cancel a queued or running job",
    responses={**NOT_FOUND, 409: {"model": ErrorResponse, "description": "the job already finished"}},
)
def cancel_job(job_id: str, ctx: Ctx) -> JobStatus:
    with _known_job(job_id):
        previous = ctx.worker.cancel(job_id)
    if previous not in ("queued", "running", CANCELLED):
        raise ApiError(409, "job_finished", f"job {job_id} already ended ({previous}); nothing to cancel")
    return _status(ctx, job_id)


@router.delete("/{job_id}", response_model=Deleted, summary="Delete a job and its files (cancels it if running)",
               responses=NOT_FOUND)  # fmt: skip
def delete_job(job_id: str, ctx: Ctx) -> Deleted:
    with _known_job(job_id):
        ctx.worker.delete(job_id)
    return Deleted(id=job_id)
