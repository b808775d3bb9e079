"""The real server: ``crowdmocap-server serve`` in a subprocess, the real pipeline on the street clip.

The 2D stage replays BlazePose's recorded poses (``tests.helpers.replay_cli``); every other stage runs
for real. Captures are still short (15-20 frames) and the queue/cancel/kill tests stop their longer jobs
early. The models folder is empty: nothing licensed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crowdmocap_addon.core.result.reader import read_result
from tests.helpers.replay_cli import REPLAY_NOTICE, server_command

from .conftest import REPO, STREET_CLIP, footage_folders, free_port

pytestmark = pytest.mark.slow

CLIP = STREET_CLIP.read_bytes()
QUICK = {"estimator": "lift", "pose_backend": "blazepose", "stop": 15, "min_track_length": 3}
LONG = {**QUICK, "stop": 60}  # long enough to still be running when a test acts on it
START_TIMEOUT_S = 90
TERMINAL = {"done", "failed", "cancelled"}


class ServerProcess:
    """One ``serve`` process with its own log file; talks to it over HTTP on 127.0.0.1."""

    def __init__(self, data_dir: Path, *args: str, host: str = "127.0.0.1", token: str | None = None,
                 abort_at_frame: int | None = None) -> None:  # fmt: skip
        self.data_dir, self.port, self.token = data_dir, free_port(), token
        models = data_dir.parent / "models"
        models.mkdir(exist_ok=True)
        self.log = data_dir.parent / f"server-{self.port}.log"
        command = server_command("serve", "--host", host, "--port", str(self.port), "--data-dir", str(data_dir),
                                 "--models-dir", str(models), "--device", "cpu", *args,
                                 abort_at_frame=abort_at_frame)  # fmt: skip
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def output(self) -> str:
        return self.log.read_text()

    def wait_ready(self) -> ServerProcess:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.client.get("/v1/health", headers=self.auth()).status_code in (200, 401):
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the server did not answer within {START_TIMEOUT_S} s:\n{self.output()}")

    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self.auth(), **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth(), **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)

    def upload(self, data: bytes, filename: str = "street.avi") -> httpx.Response:
        return self.post("/v1/uploads", params={"filename": filename}, content=data,
                         headers={"content-type": "application/octet-stream"})  # fmt: skip

    def submit(self, options: dict[str, Any]) -> dict[str, Any]:
        upload = self.upload(CLIP)
        assert upload.status_code == 201, upload.text
        job = self.post("/v1/jobs", json={"upload_id": upload.json()["upload_id"], "options": options})
        assert job.status_code == 202, job.text
        return job.json()

    def job(self, job_id: str) -> dict[str, Any]:
        return self.get(f"/v1/jobs/{job_id}").json()

    def wait_for(self, job_id: str, condition, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if condition(job):
                return job
            if job["state"] in TERMINAL:
                pytest.fail(f"job ended as {job['state']}: {job}\n{self.output()}")
            time.sleep(0.1)
        pytest.fail(f"job {job_id} not as expected within {timeout} s: {self.job(job_id)}")

    def follow(self, job_id: str, timeout: float = 180) -> list[dict[str, Any]]:
        """Every status the event stream sends until it ends."""
        events = []
        with self.client.stream("GET", f"/v1/jobs/{job_id}/events", headers=self.auth(), timeout=timeout) as stream:
            assert stream.status_code == 200
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line.removeprefix("data: ")))
        return events

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.client.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator:
    started: list[ServerProcess] = []

    def start(*args: str, data_dir: Path | None = None, **kwargs: Any) -> ServerProcess:
        server = ServerProcess(data_dir or tmp_path / "data", *args, **kwargs)
        started.append(server)
        return server.wait_ready()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory) -> Iterator[ServerProcess]:
    """One server for the tests that need no restart: a 2 MB upload limit (the clip is 1.06 MB)."""
    server = ServerProcess(tmp_path_factory.mktemp("shared") / "data", "--max-upload-mb", "2").wait_ready()
    yield server
    server.stop()


def test_upload_capture_follow_and_download(shared_server, tmp_path):
    server = shared_server
    health = server.get("/v1/health").json()
    assert health["estimators"]["lift"]["usable"] and health["pose_backends"]["blazepose"]["usable"]
    assert "3dcrowdnet" in health["missing_models"] and health["device"] == "cpu"
    job = server.submit({**QUICK, "preview": True})
    events = server.follow(job["id"])
    final = events[-1]
    assert final["state"] == "done", final
    assert any(event["state"] == "running" for event in events)
    stages = {progress["stage"]: progress for progress in final["progress"]}
    assert stages["poses"]["done"] == stages["poses"]["total"] == 15 and stages["poses"]["unit"] == "frames"
    assert {"poses", "estimate", "motion", "write", "preview"} <= set(stages)
    summary = final["summary"]
    assert summary["frames"] == 15 and summary["estimator"] == "lift" and summary["preview"] is True
    assert summary["people"] >= 1, final
    assert REPLAY_NOTICE in server.output()

    npz = server.get(f"/v1/jobs/{job['id']}/result")
    assert npz.status_code == 200
    (tmp_path / "capture.npz").write_bytes(npz.content)
    result = read_result(tmp_path / "capture.npz")
    assert len(result.people) == summary["people"]
    assert (result.video.width, result.video.height) == (768, 576)
    as_json = server.get(f"/v1/jobs/{job['id']}/result", params={"format": "json"}).json()
    assert [person["id"] for person in as_json["people"]] == [person.id for person in result.people]
    preview = server.get(f"/v1/jobs/{job['id']}/preview")
    assert preview.status_code == 200 and preview.content[4:8] == b"ftyp"  # an MP4 file


def test_queue_positions_and_cancelling_running_and_queued_jobs(shared_server):
    server = shared_server
    first, second = server.submit(LONG), server.submit(LONG)
    server.wait_for(first["id"], lambda job: job["state"] == "running" and job["progress"])
    assert server.job(second["id"])["queue_position"] == 1
    asked = time.monotonic()
    assert server.post(f"/v1/jobs/{first['id']}/cancel").status_code == 200
    while server.job(first["id"])["state"] != "cancelled":
        assert time.monotonic() - asked < 5, "cancel not honoured within 5 s"
        time.sleep(0.05)
    server.wait_for(second["id"], lambda job: job["state"] == "running")
    assert server.post(f"/v1/jobs/{second['id']}/cancel").status_code == 200
    assert server.follow(second["id"], timeout=10)[-1]["state"] == "cancelled"
    assert not (server.data_dir / "jobs" / first["id"] / "result.npz").exists()


@pytest.mark.parametrize(
    ("body", "filename", "status", "code"),
    [
        (b"", "empty.avi", 400, "empty_upload"),
        (CLIP[:2048], "cut.avi", 415, "unreadable_video"),
        (b"meeting notes, certainly not a video\n" * 30, "notes.mp4", 415, "unreadable_video"),
        (CLIP * 2, "double.avi", 413, "upload_too_large"),  # 2.1 MB against --max-upload-mb 2
    ],
    ids=["empty", "truncated", "renamed-text", "oversize"],
)
def test_bad_uploads_get_documented_errors(shared_server, body, filename, status, code):
    response = shared_server.upload(body, filename)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    if code == "unreadable_video":
        assert response.json()["error"]["message"].startswith(f"not a readable video: {filename}")


def test_a_killed_server_requeues_its_job_and_keeps_finished_results(start_server, tmp_path):
    server = start_server()
    finished = server.submit({**QUICK, "stop": 8})
    server.wait_for(finished["id"], lambda job: job["state"] == "done")
    interrupted = server.submit({**QUICK, "stop": 12})
    server.wait_for(interrupted["id"], lambda job: job["state"] == "running" and job["progress"])
    server.kill()  # SIGKILL: no shutdown code runs

    server = start_server()
    result = server.get(f"/v1/jobs/{finished['id']}/result")
    assert result.status_code == 200
    (tmp_path / "kept.npz").write_bytes(result.content)
    read_result(tmp_path / "kept.npz")
    assert server.job(finished["id"])["state"] == "done"
    resumed = server.job(interrupted["id"])
    assert resumed["state"] in ("queued", "running")
    assert any("interrupted by a server restart" in note and "re-queued" in note for note in resumed["notes"])
    final = server.follow(interrupted["id"])[-1]
    assert final["state"] == "done" and final["summary"]["frames"] == 12


def test_a_native_crash_fails_its_job_and_the_server_keeps_serving(start_server, tmp_path):
    server = start_server(abort_at_frame=10)  # the 2D stage aborts the capture process at frame 10
    crashed = server.follow(server.submit(QUICK)["id"])[-1]
    assert crashed["state"] == "failed", crashed
    error = crashed["error"]
    assert error["code"] == "capture_crashed" and error["stage"] == "poses", error
    assert "SIGABRT" in error["message"] and "the server is still running" in error["message"]
    assert server.process.poll() is None and server.get("/v1/health").json()["status"] == "ok"

    done = server.follow(server.submit({**QUICK, "stop": 8})["id"])[-1]  # frames before the crash: it runs
    assert done["state"] == "done", done
    (tmp_path / "after.npz").write_bytes(server.get(f"/v1/jobs/{done['id']}/result").content)
    assert read_result(tmp_path / "after.npz").video.path == "street.avi"  # the uploaded name, not a server path
    listing = server.get("/v1/jobs").text
    assert str(server.data_dir) not in listing and str(server.data_dir) not in server.get(
        f"/v1/jobs/{done['id']}/result", params={"format": "json"}).text  # fmt: skip


def test_a_job_interrupted_twice_is_failed_on_the_next_start_not_run_again(start_server):
    server = start_server()
    job = server.submit(LONG)
    for _ in range(2):  # the server dies while the job runs; on the next start it runs again
        server.wait_for(job["id"], lambda status: status["state"] == "running" and status["progress"])
        server.kill()
        server = start_server(data_dir=server.data_dir)
    final = server.job(job["id"])
    assert final["state"] == "failed" and final["error"]["code"] == "interrupted", final
    assert "interrupted 2 times" in final["error"]["message"]


def test_a_remote_bind_needs_the_token_and_paths_stay_inside_allowed_folders(start_server, tmp_path):
    allowed, _ = footage_folders(tmp_path)
    server = start_server("--allow-path", str(allowed), host="0.0.0.0")
    token_file = server.data_dir / "token"
    token = token_file.read_text().strip()
    assert token in server.output()  # printed once, when created
    assert os.stat(token_file).st_mode & 0o777 == 0o600

    for headers in ({}, {"authorization": "Bearer not-the-token"}):
        response = server.client.get("/v1/health", headers=headers)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    server.token = token
    assert server.get("/v1/health").json()["token_required"] is True
    for escape in (f"{allowed}/../private/secret.avi", str(allowed / "link.avi")):
        response = server.post("/v1/jobs", json={"path": escape})
        assert response.status_code == 403 and response.json()["error"]["code"] == "path_not_allowed"
    # Refused at submit by the pipeline's own checks: the clip has no frame 5000 (nothing queued, no pipeline time).
    refused = server.post("/v1/jobs", json={"path": str(allowed / "street.avi"), "options": {"start": 5000}})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_options", refused.text
    assert "the clip has 100, start is 5000" in refused.json()["error"]["message"]
    assert server.get("/v1/jobs").json()["jobs"] == []
    assert (allowed / "street.avi").is_file()
    with socket.create_connection(("127.0.0.1", server.port)):
        pass  # reachable on loopback through the wildcard bind

    server.stop()
    again = start_server("--allow-path", str(allowed), host="0.0.0.0")
    assert token not in again.output() and token_file.read_text().strip() == token  # kept, not shown again


def test_jobs_run_on_ray_with_serve_ray_address(start_server, tmp_path, monkeypatch):
    """``serve --ray-address local``: each job a task on a Ray started in the server (the Blender panel's
    captures would run on the cluster the same way); progress, the result and the preview come back."""
    pytest.importorskip("ray")
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the Ray workers unpickle the replay from tests/
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    server = start_server("--ray-address", "local")
    job = server.submit({**QUICK, "preview": True})
    final = server.follow(job["id"])[-1]
    assert final["state"] == "done", (final, server.output()[-3000:])
    stages = {progress["stage"]: progress for progress in final["progress"]}
    assert stages["poses"]["done"] == stages["poses"]["total"] == 15  # progress relayed from the Ray worker
    (tmp_path / "capture.npz").write_bytes(server.get(f"/v1/jobs/{job['id']}/result").content)
    assert len(read_result(tmp_path / "capture.npz").people) == final["summary"]["people"] >= 1
    assert server.get(f"/v1/jobs/{job['id']}/preview").content[4:8] == b"ftyp"
    running = server.submit(LONG)
    server.wait_for(running["id"], lambda job: job["state"] == "running" and job["progress"])
    assert server.post(f"/v1/jobs/{running['id']}/cancel").status_code == 200  # the Ray task is cancelled
    assert server.follow(running["id"], timeout=30)[-1]["state"] == "cancelled"
    assert not (server.data_dir / "jobs" / running["id"] / "result.npz").exists()
    assert REPLAY_NOTICE in server.output() and "_remote_capture pid=" in server.output()  # a Ray worker ran it
