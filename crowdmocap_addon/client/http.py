"""A small client for the server's ``/v1`` HTTP API, on the standard library only (Blender ships no requests).

Every failure becomes a ``ServerError`` whose message is written for the animator: what happened and
what to do, never a traceback.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 1 << 20


class ServerError(Exception):
    """The server could not be reached or refused a request; ``code`` is the server's stable error code."""

    def __init__(self, message: str, *, code: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.code, self.status = code, status


class UploadCancelled(ServerError):  # noqa: N818 - the user asked for it; not an error
    """The upload was stopped because the capture was cancelled."""


class _CountingReader:
    """A file object that reports how much has been read (urllib sends file bodies in blocks)."""

    def __init__(self, stream: BinaryIO, size: int, progress: Callable[[int, int], None] | None,
                 cancelled: Callable[[], bool] | None) -> None:  # fmt: skip
        self.stream, self.size, self.progress, self.cancelled, self.sent = stream, size, progress, cancelled, 0

    def read(self, amount: int = -1) -> bytes:
        if self.cancelled is not None and self.cancelled():
            raise UploadCancelled("upload cancelled", code="cancelled")
        block = self.stream.read(CHUNK if amount is None or amount < 0 else min(amount, CHUNK))
        self.sent += len(block)
        if self.progress is not None:
            self.progress(self.sent, self.size)
        return block


class ServerClient:
    def __init__(self, url: str, token: str = "", timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token.strip(), timeout

    def _open(self, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
              timeout: float | None = None):  # fmt: skip
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=dict(headers or {}))
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            return urllib.request.urlopen(request, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as exc:
            raise self._refused(exc) from exc
        except OSError as exc:  # URLError, refused connections and timeouts are all OSErrors
            reason = getattr(exc, "reason", exc)
            raise ServerError(
                f"Cannot reach the CrowdMocap server at {self.url} ({reason}). Start it with "
                "`crowdmocap-server serve`, or check the server URL in the add-on preferences.",
                code="unreachable",
            ) from exc

    def _refused(self, exc: urllib.error.HTTPError) -> ServerError:
        try:
            error = json.loads(exc.read().decode("utf-8"))["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError, OSError):
            code, message = "", f"HTTP {exc.code} {exc.reason}"
        if exc.code == 401:
            message = ("The server wants an access token: paste the token printed by `crowdmocap-server serve` "
                       "into the add-on preferences.")  # fmt: skip
        return ServerError(f"The server refused: {message}", code=code, status=exc.code)

    def _json(self, method: str, path: str, payload: Any = None) -> dict[str, Any]:
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json"} if body is not None else {}
        with self._open(method, path, body=body, headers=headers) as response:
            return json.loads(response.read().decode("utf-8"))

    def health(self) -> dict[str, Any]:
        return self._json("GET", "/v1/health")

    def upload(self, footage: str | Path, *, progress: Callable[[int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> dict[str, Any]:  # fmt: skip
        """Stream a video file to the server; returns its UploadInfo (upload_id, size, width, height, ...)."""
        path = Path(footage)
        size = os.path.getsize(path)
        query = urllib.parse.urlencode({"filename": path.name})
        with path.open("rb") as stream:
            reader = _CountingReader(stream, size, progress, cancelled)
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
            with self._open("POST", f"/v1/uploads?{query}", body=reader, headers=headers,
                            timeout=max(self.timeout, 120.0)) as response:  # fmt: skip
                return json.loads(response.read().decode("utf-8"))

    def submit(self, upload_id: str, options: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/v1/jobs", {"upload_id": upload_id, "options": options})

    def status(self, job_id: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/jobs/{urllib.parse.quote(job_id)}")

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self._json("POST", f"/v1/jobs/{urllib.parse.quote(job_id)}/cancel")

    def download_result(self, job_id: str, destination: str | Path) -> Path:
        """Save the job's result .npz; written to a temporary name first so a cut download leaves nothing."""
        return self._download(f"/v1/jobs/{urllib.parse.quote(job_id)}/result?format=npz", destination)

    def download_preview(self, job_id: str, destination: str | Path) -> Path:
        """Save the job's preview video (jobs submitted with ``options.preview``)."""
        return self._download(f"/v1/jobs/{urllib.parse.quote(job_id)}/preview", destination)

    def _download(self, path: str, destination: str | Path) -> Path:
        target = Path(destination)
        partial = target.with_name(f".{target.name}.partial")
        with self._open("GET", path, timeout=max(self.timeout, 120.0)) as response, partial.open("wb") as out:
            while block := response.read(CHUNK):
                out.write(block)
        os.replace(partial, target)
        return target
