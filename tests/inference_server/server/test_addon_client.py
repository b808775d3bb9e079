"""The Blender add-on's HTTP client and background capture job against a real server on 127.0.0.1."""

from __future__ import annotations

import threading

import pytest

from crowdmocap_addon.client.capture_job import CaptureJob
from crowdmocap_addon.client.http import ServerClient, ServerError
from crowdmocap_addon.core.result.reader import read_result
from inference_server.server.security import TOKEN_FILE
from tests.inference_server.server.conftest import STREET_CLIP, FakeRunner, free_port, wait_until


def _run(job: CaptureJob, timeout: float = 20.0):
    job.start().join(timeout)
    return job.snapshot()


def test_capture_uploads_follows_progress_and_downloads_a_valid_result(live_server, tmp_path):
    server = live_server(FakeRunner(frames=20, delay_s=0.05))
    seen = []
    job = CaptureJob(ServerClient(server.url), STREET_CLIP, {"min_track_length": 3}, tmp_path / "r.npz", poll_s=0.05)
    job.start()
    while not job.snapshot().finished:
        seen.append(job.snapshot())
        threading.Event().wait(0.02)
    final = job.snapshot()
    assert final.phase == "done" and final.message == "Captured 3 people", final.message
    assert read_result(final.result_path).people
    phases = [s.phase for s in seen]
    assert "uploading" in phases and "running" in phases
    running = [s for s in seen if s.phase == "running" and s.stage == "poses"]
    assert running and running[-1].fraction > 0 and "Poses" in running[-1].label()
    assert "overall" in running[-1].label()
    overall = [s.overall for s in [*seen, final]]  # one figure across upload, stages and download
    assert overall == sorted(overall) and overall[-1] == 1.0 and 0 < running[-1].overall < 1
    assert server.runner.calls[0]["options"].min_track_length == 3
    assert final.preview_path is None  # not asked for


def test_a_preview_asked_for_is_downloaded_beside_the_result(live_server, tmp_path):
    from tests.inference_server.server.conftest import FAKE_PREVIEW

    server = live_server(FakeRunner(frames=4))
    job = CaptureJob(ServerClient(server.url), STREET_CLIP, {"preview": True}, tmp_path / "take.npz", poll_s=0.05)
    final = _run(job)
    assert final.phase == "done", final.message
    assert final.preview_path == tmp_path / "take_preview.mp4"
    assert final.preview_path.read_bytes() == FAKE_PREVIEW


def test_cancel_while_running_waits_until_the_server_job_has_stopped(live_server, tmp_path):
    server = live_server(FakeRunner(frames=3, hold=threading.Event()))
    job = CaptureJob(ServerClient(server.url), STREET_CLIP, {}, tmp_path / "r.npz", poll_s=0.05).start()
    wait_until(lambda: job.snapshot().phase == "running")
    job.cancel()
    job.join(10)
    final = job.snapshot()
    assert final.phase == "cancelled" and "the server stopped the job" in final.message
    assert server.job(final.job_id)["state"] == "cancelled"
    assert not (tmp_path / "r.npz").exists()


def test_cancel_that_the_server_cannot_honour_in_time_says_so(live_server, tmp_path):
    hold = threading.Event()
    server = live_server(FakeRunner(frames=2, hold=hold, deaf_to_cancel=True))
    job = CaptureJob(ServerClient(server.url), STREET_CLIP, {}, tmp_path / "r.npz", poll_s=0.05, stop_wait_s=0.3)
    job.start()
    wait_until(lambda: job.snapshot().phase == "running")
    job.cancel()
    wait_until(lambda: job.snapshot().phase == "cancelling")
    job.join(10)
    final = job.snapshot()
    hold.set()
    assert final.phase == "cancelled" and "still running" in final.message and "next frame" in final.message
    assert server.job(final.job_id)["state"] == "running"
    assert not (tmp_path / "r.npz").exists()


def test_server_down_and_refusals_read_as_plain_words(live_server, tmp_path):
    down = _run(CaptureJob(ServerClient(f"http://127.0.0.1:{free_port()}"), STREET_CLIP, {}, tmp_path / "r.npz"))
    assert down.phase == "failed" and "Cannot reach the CrowdMocap server" in down.message
    server = live_server()
    refused = _run(CaptureJob(ServerClient(server.url), STREET_CLIP, {"stride": 0}, tmp_path / "r.npz"))
    assert refused.phase == "failed" and "The server refused" in refused.message and "stride" in refused.message
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    bad = _run(CaptureJob(ServerClient(server.url), text, {}, tmp_path / "r.npz"))
    assert bad.phase == "failed" and "video" in bad.message
    failing = live_server(FakeRunner(fail_at=1), data_dir=tmp_path / "other")
    failed = _run(CaptureJob(ServerClient(failing.url), STREET_CLIP, {}, tmp_path / "r.npz", poll_s=0.05))
    assert failed.phase == "failed" and "stage poses" in failed.message and "crashed" in failed.message
    assert not (tmp_path / "r.npz").exists()


def test_token_is_sent_and_a_missing_one_is_explained(live_server):
    server = live_server(require_token=True)
    with pytest.raises(ServerError) as refused:
        ServerClient(server.url).health()
    assert refused.value.status == 401 and "token" in str(refused.value)
    token = (server.settings.data_dir / TOKEN_FILE).read_text().strip()
    assert ServerClient(server.url, token=token).health()["status"] == "ok"
