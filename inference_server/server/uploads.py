"""Uploads: the raw request body streamed to disk in chunks, size-limited, then probed as video.

A body is written into ``uploads/.<id>.part/`` and only renamed to ``uploads/<id>/`` once it proved to
be a readable video, so a crash or a rejected file never leaves a half upload that a job could use.
A job takes its upload (the folder is moved into the job's folder): each upload serves one job, and an
upload no job takes is deleted after ``--upload-keep-hours``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import anyio
from starlette.requests import ClientDisconnect, Request

from .atomic import atomic_write_json
from .defaults import DEFAULT_UPLOAD_KEEP_HOURS
from .errors import ApiError
from .ids import is_valid_id, new_id

log = logging.getLogger(__name__)

UPLOAD_FILE = "upload.json"
PART_SUFFIX = ".part"
FLUSH_BYTES = 1 << 20  # chunks are gathered up to this size, then written in a worker thread
MAX_NAME_CHARS = 200
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")
_STORED = re.compile(r"input(\.[a-z0-9]{1,8})?")
ACCEPTED_TYPES = "application/octet-stream or video/*"


def clean_filename(raw: str | None) -> str:
    """The last path component, without control characters: only shown back, never used as a path."""
    name = re.split(r"[/\\]", raw or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:MAX_NAME_CHARS] or "upload"


def _stored_name(filename: str) -> str:
    suffix = Path(filename).suffix
    return "input" + (suffix.lower() if _SUFFIX.fullmatch(suffix) else "")


def check_content_type(value: str | None) -> None:
    """Raw bytes only: a multipart form (``curl -F``) would be stored with its boundaries inside."""
    media = (value or "application/octet-stream").split(";")[0].strip().lower()
    if media != "application/octet-stream" and not media.startswith("video/"):
        raise ApiError(
            415, "unsupported_media_type",
            f"send the raw video bytes as the request body with Content-Type {ACCEPTED_TYPES} (got {media}); "
            "multipart forms are not accepted",
        )  # fmt: skip


def declared_length(value: str | None, limit: int) -> int | None:
    """The Content-Length, rejected at once when it is over the limit or zero."""
    if value is None:
        return None
    if not value.isdigit():
        raise ApiError(400, "bad_request", f"Content-Length must be a number of bytes, got {value!r}")
    length = int(value)
    if length > limit:
        raise ApiError(413, "upload_too_large", _too_large(limit))
    if length == 0:
        raise ApiError(400, "empty_upload", "the request body is empty: send the video's bytes")
    return length


def _too_large(limit: int) -> str:
    return f"the upload is larger than this server's limit of {limit // (1024 * 1024)} MB (--max-upload-mb)"


def probe_video(path: Path, shown_name: str) -> dict[str, Any]:
    """Open the file as footage and decode its first frame; 415 with the reason when that fails."""
    from ..footage.reader import FootageError, open_footage

    try:
        footage = open_footage(path)
        if next(iter(footage.frames(stop=1)), None) is None:
            raise FootageError(f"{path}: no frame could be decoded")
    except FootageError as exc:
        reason = str(exc).replace(str(path), shown_name)
        raise ApiError(415, "unreadable_video", f"not a readable video: {reason}") from exc
    info = footage.info
    return {"width": info.width, "height": info.height, "fps": float(info.fps), "frame_count": info.frame_count}


class UploadStore:
    """The ``uploads/`` folder: receive, look up and hand over uploaded footage."""

    def __init__(self, data_dir: Path, max_bytes: int, *, keep_s: float = DEFAULT_UPLOAD_KEEP_HOURS * 3600) -> None:
        self.folder = data_dir / "uploads"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes, self.keep_s = max_bytes, keep_s
        for stale in self.folder.glob(f".*{PART_SUFFIX}"):  # a crash mid-upload
            shutil.rmtree(stale, ignore_errors=True)
        self.expire()

    def expire(self, now: float | None = None) -> list[str]:
        """Delete the uploads no job took within ``keep_s`` of their arrival; returns their ids.

        Runs at start-up and before each new upload, so a client that uploads and never submits (a
        crashed Blender, a script error) cannot fill the disk over days.
        """
        now = time.time() if now is None else now
        expired = []
        for folder in self.folder.iterdir():
            marker = folder / UPLOAD_FILE
            with contextlib.suppress(OSError):
                if is_valid_id(folder.name) and now - marker.stat().st_mtime > self.keep_s:
                    shutil.rmtree(folder)
                    expired.append(folder.name)
        if expired:
            log.info("deleted %d upload(s) no job took within %.0f h: %s", len(expired), self.keep_s / 3600,
                     ", ".join(expired))  # fmt: skip
        return expired

    async def receive(self, request: Request, filename: str | None) -> dict[str, Any]:
        """Stream the body to disk, enforce the limit, probe it; returns the upload's description."""
        check_content_type(request.headers.get("content-type"))
        await anyio.to_thread.run_sync(self.expire)
        expected = declared_length(request.headers.get("content-length"), self.max_bytes)
        name = clean_filename(filename)
        upload_id = new_id()
        part = self.folder / f".{upload_id}{PART_SUFFIX}"
        part.mkdir()
        target = part / _stored_name(name)
        try:
            size = await self._write_body(request, target)
            if expected is not None and size != expected:
                raise ApiError(400, "upload_incomplete", f"received {size} of the {expected} bytes announced")
            if size == 0:
                raise ApiError(400, "empty_upload", "the request body is empty: send the video's bytes")
            video = await anyio.to_thread.run_sync(probe_video, target, name)
            described = {"upload_id": upload_id, "filename": name, "size": size, **video}
            atomic_write_json(part / UPLOAD_FILE, {**described, "stored": target.name})
            os.replace(part, self.folder / upload_id)
        except BaseException:
            shutil.rmtree(part, ignore_errors=True)
            raise
        log.info("upload %s: %s, %d bytes, %dx%d", upload_id, name, size, video["width"], video["height"])
        return described

    async def _write_body(self, request: Request, target: Path) -> int:
        size = 0
        pending = bytearray()
        try:
            with target.open("wb") as handle:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ApiError(413, "upload_too_large", _too_large(self.max_bytes))
                    pending += chunk
                    if len(pending) >= FLUSH_BYTES:
                        await anyio.to_thread.run_sync(handle.write, bytes(pending))
                        pending.clear()
                await anyio.to_thread.run_sync(handle.write, bytes(pending))
        except ClientDisconnect as exc:
            raise ApiError(400, "upload_incomplete", f"the client disconnected after {size} bytes") from exc
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise ApiError(507, "insufficient_storage", "the server's disk is full") from exc
            raise
        return size

    def describe(self, upload_id: str) -> dict[str, Any] | None:
        if not is_valid_id(upload_id):
            return None
        try:
            return json.loads((self.folder / upload_id / UPLOAD_FILE).read_text())
        except (OSError, ValueError):
            return None

    def take(self, upload_id: str, job_dir: Path) -> tuple[Path, str]:
        """Move the upload's video into ``job_dir`` (same file system: a rename); returns (path, name)."""
        described = self.describe(upload_id)
        if described is None:
            raise ApiError(404, "upload_not_found", f"no upload {upload_id!r} (each upload serves one job)")
        stored = str(described.get("stored", ""))
        if not _STORED.fullmatch(stored):
            raise ApiError(404, "upload_not_found", f"upload {upload_id!r} is damaged; upload the file again")
        source = self.folder / upload_id
        target = job_dir / stored
        try:
            os.replace(source / stored, target)
        except FileNotFoundError as exc:  # another request took it first
            raise ApiError(404, "upload_not_found", f"no upload {upload_id!r} (each upload serves one job)") from exc
        with contextlib.suppress(OSError):
            shutil.rmtree(source)
        return target, str(described["filename"])
