"""Fakes and a live in-process server for the HTTP server's tests.

``FakeRunner`` stands in for ``run_capture``: it reports progress frame by frame, honours the cancel
token, can block until released or fail at a chosen frame, and writes a real result file.
``live_server`` runs the app on uvicorn in a thread on a free loopback port: real HTTP, no subprocess.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from crowdmocap_addon.core.result.writer import write_result
from inference_server.pipeline.progress import PipelineError, ProgressEvent
from inference_server.pipeline.run import CaptureSummary
from inference_server.server.app import create_app
from inference_server.server.settings import ServerSettings
from tests.helpers.captures import make_capture

REPO = Path(__file__).resolve().parents[3]
STREET_CLIP = REPO / "tests" / "data" / "vtest_first10s.avi"
FAKE_PREVIEW = b"\x00\x00\x00\x18ftypmp42 fake preview"


def fake_components() -> dict[str, Any]:
    usable = {"usable": True, "detail": "test"}
    return {
        "estimators": {"lift": usable, "crowdnet": {"usable": False, "detail": "no checkpoint"}},
        "pose_backends": {"blazepose": usable, "rtmo": {"usable": False, "detail": "no model"}, "rtmpose": usable},
        "missing_models": ["3dcrowdnet", "rtmo-l"],
        "device": "cpu",
    }


@dataclass
class FakeRunner:
    """``run_capture``'s signature and behaviour on a few fake frames."""

    frames: int = 4
    delay_s: float = 0.01
    fail_at: int | None = None  # raise PipelineError at this frame
    error: Exception | None = None  # raise this after the frames
    hold: threading.Event | None = None  # while unset, wait before each frame (cancel still honoured)
    deaf_to_cancel: bool = False  # a stage that never checks the token (a long model call)
    calls: list[dict[str, Any]] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    active: int = 0
    most_active: int = 0

    def __call__(self, footage, output, options, *, preview=None, progress=None, cancel=None,
                 footage_name=None) -> CaptureSummary:  # fmt: skip
        self.calls.append({"footage": Path(footage), "output": Path(output), "options": options, "preview": preview,
                           "footage_name": footage_name})  # fmt: skip
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        self.started.set()
        try:
            for frame in range(self.frames):
                if not self.deaf_to_cancel:
                    cancel.check()
                while self.hold is not None and not self.hold.wait(0.01):
                    if not self.deaf_to_cancel:
                        cancel.check()
                time.sleep(self.delay_s)
                if frame == self.fail_at:
                    raise PipelineError("poses", "the pose model crashed", frame)
                progress(ProgressEvent(stage="poses", done=frame + 1, total=self.frames, unit="frames", eta_s=0.5))
            if self.error is not None:
                raise self.error
            write_result(output, make_capture(frames=8))
            if preview is not None:
                Path(preview).write_bytes(FAKE_PREVIEW)
            return CaptureSummary(Path(output), Path(preview) if preview else None, 3, self.frames, "lift",
                                  "blazepose", ["a warning"], 0.25)  # fmt: skip
        finally:
            self.active -= 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> float:
    """Seconds it took for ``condition`` to hold; fails the test after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)
    return time.monotonic() - start


class LiveServer:
    """The app served by uvicorn in a thread; ``client`` talks to it over real HTTP."""

    def __init__(self, settings: ServerSettings, runner: FakeRunner) -> None:
        self.settings, self.runner = settings, runner
        self.app = create_app(settings, runner, components=fake_components, isolated=False)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                timeout_graceful_shutdown=1)  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.client = httpx.Client(base_url=self.url, timeout=10)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        wait_until(lambda: self._server.started)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server.should_exit:
            return
        self.client.close()
        self._server.should_exit = True
        self._thread.join(10)

    def job(self, job_id: str) -> dict[str, Any]:
        return self.client.get(f"/v1/jobs/{job_id}").json()

    def wait_state(self, job_id: str, *states: str, timeout: float = 10.0) -> dict[str, Any]:
        wait_until(lambda: self.job(job_id)["state"] in states, timeout)
        return self.job(job_id)

    def upload(self, data: bytes, filename: str = "clip.avi", **headers: str) -> httpx.Response:
        headers = {"content-type": "application/octet-stream", **headers}
        return self.client.post("/v1/uploads", params={"filename": filename}, content=data, headers=headers)

    def submit_clip(self, **options: Any) -> dict[str, Any]:
        upload = self.upload(STREET_CLIP.read_bytes(), "street.avi")
        assert upload.status_code == 201, upload.text
        response = self.client.post("/v1/jobs", json={"upload_id": upload.json()["upload_id"], "options": options})
        assert response.status_code == 202, response.text
        return response.json()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``live_server(runner=..., **settings)`` starts a server; all are stopped at the end."""
    started: list[LiveServer] = []

    def start(runner: FakeRunner | None = None, **settings: Any) -> LiveServer:
        values = {"data_dir": tmp_path / "data", "device": "cpu", "models_dir": tmp_path / "models", **settings}
        server = LiveServer(ServerSettings(**values), runner or FakeRunner())
        started.append(server.__enter__())
        return server

    yield start
    for server in reversed(started):
        if server.runner.hold is not None:
            server.runner.hold.set()
        server.__exit__(None, None, None)


def footage_folders(tmp_path: Path) -> tuple[Path, Path]:
    """(allowed, outside): ``allowed/street.avi`` is the real clip, ``outside/secret.avi`` a file the server
    must never reach, and ``allowed/link.avi`` a symlink that escapes to it."""
    allowed, outside = tmp_path / "footage", tmp_path / "private"
    allowed.mkdir(), outside.mkdir()
    (allowed / "street.avi").write_bytes(STREET_CLIP.read_bytes())
    (outside / "secret.avi").write_bytes(STREET_CLIP.read_bytes())
    (allowed / "link.avi").symlink_to(outside / "secret.avi")
    return allowed, outside
