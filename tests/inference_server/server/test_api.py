"""The HTTP API over real HTTP (uvicorn in a thread) with a fake runner: every route, error and guard."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from crowdmocap_addon.core.result.reader import read_result
from inference_server.pipeline.options import CaptureOptions
from inference_server.server.job_files import JobFiles
from inference_server.server.schemas import JobOptions
from inference_server.server.uploads import UploadStore

from .conftest import FAKE_PREVIEW, STREET_CLIP, FakeRunner, footage_folders, wait_until

CLIP = STREET_CLIP.read_bytes()


def _error(response, status: int, code: str) -> str:
    """The error's message, after checking the status and the documented JSON shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    return body["error"]["message"]


def _raw_request(port: int, head: str) -> tuple[int, dict]:
    """Send the request head only (announcing a body never sent) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head.encode() + b"\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data and data.rstrip().endswith(b"}"):
                break
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


def _uploads_left(server) -> list[Path]:
    return list((server.settings.data_dir / "uploads").iterdir())


def test_health_reports_version_device_components_and_limits(live_server):
    server = live_server(max_upload_mb=7)
    health = server.client.get("/v1/health").json()
    assert health["version"] and health["device"] == "cpu"
    assert health["estimators"]["lift"]["usable"] is True and health["estimators"]["crowdnet"]["usable"] is False
    assert set(health["pose_backends"]) == {"blazepose", "rtmo", "rtmpose"}
    assert health["missing_models"] == ["3dcrowdnet", "rtmo-l"]
    assert health["token_required"] is False and health["max_upload_mb"] == 7 and health["path_submission"] is False


def test_upload_submit_follow_and_download(live_server):
    server = live_server(runner=FakeRunner(frames=6, delay_s=0.05))
    upload = server.upload(CLIP, "street cam/../street.avi", **{"content-type": "video/x-msvideo"})
    assert upload.status_code == 201, upload.text
    info = upload.json()
    assert info | {"upload_id": None} == {"upload_id": None, "filename": "street.avi", "size": len(CLIP),
                                          "width": 768, "height": 576, "fps": 10.0, "frame_count": 100}  # fmt: skip
    job = server.client.post("/v1/jobs", json={"upload_id": info["upload_id"], "options": {"stop": 20}}).json()
    assert job["state"] in ("queued", "running") and job["source"] == {"kind": "upload", "name": "street.avi"}
    assert job["options"]["stop"] == 20 and job["options"]["preview"] is False

    events = []
    with server.client.stream("GET", f"/v1/jobs/{job['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    assert events[-1]["state"] == "done"  # the stream ended by itself at the terminal state
    assert any(event["state"] == "running" and event["progress"] for event in events)
    dones = [event["progress"][0]["done"] for event in events if event["progress"]]
    assert dones == sorted(dones) and dones[-1] == 6
    final = server.job(job["id"])
    assert final["summary"]["people"] == 3 and final["finished"] and final["queue_position"] is None

    npz = server.client.get(f"/v1/jobs/{job['id']}/result")
    assert npz.status_code == 200 and 'filename="street.npz"' in npz.headers["content-disposition"]
    path = server.settings.data_dir / "downloaded.npz"
    path.write_bytes(npz.content)
    result = read_result(path)
    as_json = server.client.get(f"/v1/jobs/{job['id']}/result", params={"format": "json"})
    assert as_json.status_code == 200 and as_json.headers["content-type"] == "application/json"
    people = as_json.json()["people"]
    assert [person["id"] for person in people] == [track.id for track in result.people]
    np.testing.assert_allclose(people[0]["transl"], result.people[0].transl, rtol=1e-6)
    assert _error(server.client.get(f"/v1/jobs/{job['id']}/preview"), 404, "no_preview")
    assert _error(server.client.post("/v1/jobs", json={"upload_id": info["upload_id"]}), 404, "upload_not_found")


def test_preview_is_served_when_asked_for(live_server):
    server = live_server()
    job = server.submit_clip(preview=True)
    server.wait_state(job["id"], "done")
    preview = server.client.get(f"/v1/jobs/{job['id']}/preview")
    assert preview.status_code == 200 and preview.headers["content-type"] == "video/mp4"
    assert preview.content == FAKE_PREVIEW


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"", {}, 400, "empty_upload"),
        (CLIP[:2048], {}, 415, "unreadable_video"),
        (b"just some notes, not a video\n" * 50, {}, 415, "unreadable_video"),
        (CLIP, {"content-type": "text/plain"}, 415, "unsupported_media_type"),
        (CLIP, {"content-type": "multipart/form-data; boundary=x"}, 415, "unsupported_media_type"),
    ],
    ids=["empty", "truncated-avi", "renamed-text", "text-type", "multipart"],
)
def test_bad_uploads_are_refused_with_a_code_and_leave_nothing(live_server, body, headers, status, code):
    server = live_server()
    message = _error(server.upload(body, "holiday.mp4", **headers), status, code)
    if code == "unreadable_video":
        assert message.startswith("not a readable video: holiday.mp4")
        assert str(server.settings.data_dir) not in message  # server paths stay private
    assert _uploads_left(server) == []


def test_uploads_no_job_takes_are_deleted_after_the_keep_time(live_server, tmp_path):
    server = live_server(upload_keep_hours=2)
    old, recent = (server.upload(CLIP, f"{name}.avi").json()["upload_id"] for name in ("old", "recent"))
    uploads = server.settings.data_dir / "uploads"
    three_hours_ago = time.time() - 3 * 3600
    os.utime(uploads / old / "upload.json", (three_hours_ago, three_hours_ago))
    third = server.upload(CLIP, "third.avi")  # each new upload sweeps the expired ones first
    assert third.status_code == 201
    assert sorted(p.name for p in _uploads_left(server)) == sorted([recent, third.json()["upload_id"]])
    assert _error(server.client.post("/v1/jobs", json={"upload_id": old}), 404, "upload_not_found")
    assert server.client.post("/v1/jobs", json={"upload_id": recent}).status_code == 202
    # and at start-up (what the app does when it opens its data folder)
    os.utime(uploads / third.json()["upload_id"] / "upload.json", (three_hours_ago, three_hours_ago))
    UploadStore(server.settings.data_dir, server.settings.max_upload_bytes, keep_s=2 * 3600)
    assert _uploads_left(server) == []


def test_oversize_uploads_are_refused_early_and_while_streaming(live_server):
    server = live_server(max_upload_mb=1)
    status, body = _raw_request(
        server.port, "POST /v1/uploads?filename=big.avi HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {10**12}"
    )  # fmt: skip
    assert status == 413 and body["error"]["code"] == "upload_too_large"  # no body byte was sent

    def chunks():  # no Content-Length: the limit is enforced on the bytes as they come
        for _ in range(3):
            yield b"\0" * (512 * 1024)

    message = _error(server.upload(chunks()), 413, "upload_too_large")
    assert "1 MB" in message
    assert _uploads_left(server) == []
    assert server.upload(CLIP[: 1024 * 1024 - 1]).status_code != 413  # just under the limit: read, then probed


def test_a_body_shorter_than_its_content_length_is_refused(live_server):
    server = live_server()
    messages = iter([{"type": "http.request", "body": CLIP[:50_000], "more_body": True}, {"type": "http.disconnect"}])
    sent: list[dict] = []

    async def receive() -> dict:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/uploads", "raw_path": b"/v1/uploads", "query_string": b"filename=cut.avi", "root_path": "",
             "headers": [(b"content-type", b"application/octet-stream"), (b"content-length", str(len(CLIP)).encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", server.port)}  # fmt: skip
    asyncio.run(server.app(scope, receive, send))  # the ASGI app itself: a gone client cannot read the answer
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"])["error"]["code"] == "upload_incomplete"

    head = ("POST /v1/uploads?filename=cut.avi HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(CLIP)}\r\n\r\n")  # fmt: skip
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:  # the same over a real socket
        conn.sendall(head.encode() + CLIP[:50_000])
    wait_until(lambda: _uploads_left(server) == [])
    assert server.client.get("/v1/health").status_code == 200


def test_path_submission_is_off_unless_allowed(live_server, tmp_path):
    server = live_server()
    message = _error(server.client.post("/v1/jobs", json={"path": str(STREET_CLIP)}), 403, "path_not_allowed")
    assert "--allow-path" in message


def test_path_submission_stays_inside_the_allowed_folders(live_server, tmp_path):
    allowed, outside = footage_folders(tmp_path)
    (allowed / "linked_dir").symlink_to(outside, target_is_directory=True)
    (allowed / "notes.avi").write_text("not a video")
    server = live_server(allowed_paths=(allowed,))

    def submit(path: str):
        return server.client.post("/v1/jobs", json={"path": path, "options": {"stop": 5}})

    for escape in (f"{allowed}/../private/secret.avi", str(allowed / "link.avi"), f"{allowed}/linked_dir/secret.avi",
                   str(outside / "secret.avi"), "/etc/passwd"):  # fmt: skip
        assert "outside the folders" in _error(submit(escape), 403, "path_not_allowed")
    _error(submit("footage/street.avi"), 400, "invalid_path")
    _error(submit(f"{allowed}/street.avi\x00.txt"), 400, "invalid_path")
    _error(submit(str(allowed / "missing.avi")), 404, "path_not_found")
    _error(submit(str(allowed / "notes.avi")), 415, "unreadable_video")
    accepted = submit(f"{allowed}/./street.avi")
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["source"] == {"kind": "path", "name": f"{allowed}/./street.avi"}
    server.wait_state(accepted.json()["id"], "done")
    assert server.runner.calls[0]["footage"] == allowed / "street.avi"
    server.client.delete(f"/v1/jobs/{accepted.json()['id']}")
    assert (allowed / "street.avi").is_file()  # deleting a path job never touches the user's file


@pytest.mark.parametrize("settings", [{"require_token": True}, {"host": "0.0.0.0"}], ids=["require-token", "remote"])
def test_a_token_guards_every_api_route(live_server, settings):
    server = live_server(**settings)
    token = (server.settings.data_dir / "token").read_text().strip()
    assert len(token) >= 40
    assert (server.settings.data_dir / "token").stat().st_mode & 0o777 == 0o600
    for method, path in (("GET", "/v1/health"), ("GET", "/v1/jobs"), ("POST", "/v1/uploads"),
                         ("GET", "/v1/jobs/" + "a" * 22), ("DELETE", "/v1/jobs/" + "a" * 22)):  # fmt: skip
        for header in (None, "Bearer wrong-token", f"Basic {token}", f"Bearer {token}x", "Bearer é".encode()):
            headers = {"authorization": header} if header else {}
            response = server.client.request(method, path, headers=headers)
            _error(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"
    assert server.client.get("/v1/health", headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert server.client.get("/v1/health", headers={"authorization": f"bearer {token}"}).status_code == 200
    assert server.client.get("/docs").status_code == 200  # the docs page and its assets hold no data
    assert server.client.get("/docs/assets/swagger-ui.css").status_code == 200


def test_the_token_is_made_once_and_kept(live_server, tmp_path):
    first = live_server(require_token=True, data_dir=tmp_path / "a")
    token = (tmp_path / "a" / "token").read_text()
    first.__exit__(None, None, None)
    live_server(require_token=True, data_dir=tmp_path / "a")
    assert (tmp_path / "a" / "token").read_text() == token
    loopback = live_server(data_dir=tmp_path / "b")
    assert not (tmp_path / "b" / "token").exists()
    assert loopback.client.get("/v1/health").status_code == 200


def test_errors_are_json_with_stable_codes(live_server):
    server = live_server()
    _error(server.client.get("/nowhere"), 404, "not_found")
    _error(server.client.put("/v1/jobs"), 405, "method_not_allowed")
    _error(server.client.get("/v1/jobs/" + "a" * 22), 404, "job_not_found")
    _error(server.client.get("/v1/jobs/" + "." * 22), 404, "job_not_found")  # right length, not an id
    for job_id in ("a" * 22, "." * 22):  # unknown, and malformed (never reaches the store)
        for method, route in (("GET", "/result"), ("GET", "/preview"), ("POST", "/cancel"), ("DELETE", "")):
            _error(server.client.request(method, f"/v1/jobs/{job_id}{route}"), 404, "job_not_found")
    _error(server.client.get("/v1/jobs/..%2F..%2Fetc"), 404, "not_found")  # decoded: no such route
    _error(server.client.post("/v1/jobs", content=b"{", headers={"content-type": "application/json"}), 400,
           "malformed_json")  # fmt: skip
    message = _error(server.client.post("/v1/jobs", json={"upload_id": "a" * 22, "options": {"stride": 0}}), 422,
                     "invalid_request")  # fmt: skip
    assert "stride" in message
    _error(
        server.client.post("/v1/jobs", json={"upload_id": "a" * 22, "options": {"checkpoint": "/etc/x"}}),
        422,
        "invalid_request",
    )  # fmt: skip  (clients never name server files)
    _error(server.client.post("/v1/jobs", json={"upload_id": "a" * 22, "options": {"start": 9, "stop": 3}}), 422,
           "invalid_options")  # fmt: skip
    _error(server.client.post("/v1/jobs", json={"upload_id": "a" * 22}), 404, "upload_not_found")
    _error(server.client.post("/v1/jobs", json={"upload_id": "../../x"}), 422, "invalid_request")
    _error(server.client.post("/v1/jobs", json={"upload_id": "a" * 22, "path": "/x"}), 422, "invalid_request")
    assert "upload_id" in _error(server.client.post("/v1/jobs", json={}), 422, "invalid_request")
    _error(server.client.get("/v1/jobs/" + "a" * 22 + "/result", params={"format": "xml"}), 422, "invalid_request")


def test_queue_positions_cancel_and_delete(live_server):
    hold = threading.Event()
    server = live_server(runner=FakeRunner(hold=hold))
    first, second, third = (server.submit_clip() for _ in range(3))
    server.wait_state(first["id"], "running")
    assert [server.job(job["id"])["queue_position"] for job in (first, second, third)] == [None, 1, 2]
    listed = server.client.get("/v1/jobs").json()["jobs"]
    assert [job["id"] for job in listed] == [first["id"], second["id"], third["id"]]
    _error(server.client.get(f"/v1/jobs/{first['id']}/result"), 409, "job_not_finished")

    cancelled = server.client.post(f"/v1/jobs/{second['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert server.job(third["id"])["queue_position"] == 1
    assert server.client.post(f"/v1/jobs/{first['id']}/cancel").status_code == 200
    server.wait_state(first["id"], "cancelled", timeout=2)
    hold.set()
    server.wait_state(third["id"], "done")
    _error(server.client.post(f"/v1/jobs/{third['id']}/cancel"), 409, "job_finished")

    folder = server.settings.data_dir / "jobs" / third["id"]
    assert (folder / "result.npz").is_file()
    deleted = server.client.delete(f"/v1/jobs/{third['id']}")
    assert deleted.json() == {"id": third["id"], "deleted": True}
    assert not folder.exists()
    _error(server.client.get(f"/v1/jobs/{third['id']}"), 404, "job_not_found")


def test_finished_results_survive_a_restart_and_queued_jobs_resume(live_server, tmp_path):
    hold = threading.Event()
    server = live_server(runner=FakeRunner())
    done = server.submit_clip()
    server.wait_state(done["id"], "done")
    server.runner.hold = hold
    held = server.submit_clip()
    server.wait_state(held["id"], "running")
    waiting = server.submit_clip()
    server.__exit__(None, None, None)  # shutdown: the running job is re-queued, not cancelled

    again = live_server(runner=FakeRunner())
    assert again.client.get(f"/v1/jobs/{done['id']}/result").status_code == 200
    for job in (held, waiting):
        final = again.wait_state(job["id"], "done")
        assert any("re-queued" in note or "still queued" in note for note in final["notes"])
    assert [call["footage"].parent.name for call in again.runner.calls] == [held["id"], waiting["id"]]


def test_docs_are_served_offline(live_server):
    server = live_server()
    page = server.client.get("/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in page and "/docs/assets/swagger-ui.css" in page
    assert "http://" not in page and "https://" not in page  # nothing from the internet
    script = server.client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert server.client.get("/redoc").status_code == 404


def test_every_route_is_documented_with_a_summary_and_a_response(live_server):
    schema = live_server().client.get("/openapi.json").json()
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) == 10
    for path, method, operation in operations:
        assert path.startswith("/v1/"), path
        assert operation.get("summary"), (method, path)
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert len(success) == 1, (method, path)
        content = operation["responses"][success[0]]["content"]
        assert all(media.get("schema") or media == {} for media in content.values())
        assert "401" in operation["responses"], (method, path)


def test_job_options_mirror_capture_options_without_paths_or_device():
    server_owned = {"pose_model", "detector_model", "checkpoint", "smpl_model", "vposer", "models_dir", "device"}
    capture_fields = set(CaptureOptions.__dataclass_fields__)
    assert set(JobOptions.model_fields) == (capture_fields - server_owned) | {"preview"}
    defaults = CaptureOptions()
    for name, field in JobOptions.model_fields.items():
        if name != "preview":
            assert field.default == getattr(defaults, name), name


@pytest.mark.parametrize(
    ("before", "after"),
    [('"created": "', '"created": "not a date '), ('"stop": 5', '"stop": "five"'),
     ('"source_kind": "upload"', '"source_kind": "ftp"')],
    ids=["date", "option-value", "source-kind"],
)  # fmt: skip
def test_a_damaged_job_record_does_not_break_the_job_list(live_server, tmp_path, before, after):
    first = live_server()
    job = first.submit_clip(stop=5)
    first.wait_state(job["id"], "done")
    first.__exit__(None, None, None)
    record = tmp_path / "data" / "jobs" / job["id"] / "job.json"
    text = record.read_text()
    assert before in text
    record.write_text(text.replace(before, after, 1))
    again = live_server()
    listing = again.client.get("/v1/jobs")
    assert listing.status_code == 200 and listing.json()["jobs"] == []
    assert (tmp_path / "data" / "quarantine" / job["id"] / "job.json").is_file()
    assert again.client.get(f"/v1/jobs/{job['id']}").status_code == 404


def test_a_full_disk_shows_in_health_and_refuses_new_jobs_with_507(live_server, monkeypatch):
    server = live_server()
    upload = server.upload(STREET_CLIP.read_bytes()).json()
    real_save = JobFiles.save

    def disk_full(self, record):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.jobs_dir / record.id / "job.json"))

    monkeypatch.setattr(JobFiles, "save", disk_full)
    refused = server.client.post("/v1/jobs", json={"upload_id": upload["upload_id"]})
    assert refused.status_code == 507 and refused.json()["error"]["code"] == "insufficient_storage", refused.text
    assert "disk is full" in refused.json()["error"]["message"]
    health = server.client.get("/v1/health").json()
    assert health["status"] == "degraded" and "No space left on device" in health["problems"][0]
    assert str(server.settings.data_dir) not in json.dumps(health)
    assert server.client.get("/v1/jobs").json()["jobs"] == []  # no job half made

    monkeypatch.setattr(JobFiles, "save", real_save)
    again = server.upload(STREET_CLIP.read_bytes()).json()
    job = server.client.post("/v1/jobs", json={"upload_id": again["upload_id"]}).json()
    assert server.wait_state(job["id"], "done")["state"] == "done"
    assert server.client.get("/v1/health").json() | {"problems": []} == health | {"status": "ok", "problems": []}
