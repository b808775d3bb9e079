"""The HTTP layer keeps what docs/http-api.md promises, over real HTTP: connections, status codes, the spec."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from inference_server.server.app import create_app
from inference_server.server.errors import CatchUnexpected
from inference_server.server.schemas import JobStatus
from inference_server.server.settings import ServerSettings

from .conftest import STREET_CLIP, FakeRunner, fake_components, free_port, wait_until


class FlakyComponents:
    """``fake_components`` that raises while ``broken`` is set: a bug behind GET /v1/health."""

    def __init__(self) -> None:
        self.broken = threading.Event()

    def __call__(self) -> dict[str, Any]:
        if self.broken.is_set():
            raise RuntimeError("a bug in a route")
        return fake_components()


@contextmanager
def serve(settings: ServerSettings, components: Any = fake_components) -> Iterator[str]:
    """The app on uvicorn in a thread, on a free loopback port; yields its URL."""
    app = create_app(settings, FakeRunner(), components=components, isolated=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _settings(tmp_path, **values: Any) -> ServerSettings:
    return ServerSettings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", device="cpu", **values)


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return error["message"]


def _exchange(conn: socket.socket, request: bytes, *, until_close: bool = False) -> bytes:
    """One request on an open connection; the answer's bytes (b"" when the server closed it)."""
    conn.sendall(request)
    data = b""
    while until_close or b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_a_500_leaves_the_keep_alive_connection_usable(tmp_path, caplog):
    components = FlakyComponents()
    components.broken.set()
    with serve(_settings(tmp_path), components) as url, httpx.Client(base_url=url, timeout=10) as client:
        with (
            caplog.at_level(logging.ERROR, logger="inference_server.server.errors"),
            client.stream("GET", "/v1/health") as failed,
        ):
            first = failed.extensions["network_stream"].get_extra_info("client_addr")
            failed.read()
        assert "unexpected server error" in _error(failed, 500, "internal_error")
        assert "a bug in a route" not in failed.text  # the details stay in the log
        logged = [r for r in caplog.records if r.getMessage() == "unexpected error on GET /v1/health"]
        assert logged and "a bug in a route" in str(logged[0].exc_info[1])  # with its traceback
        with client.stream("GET", "/v1/jobs") as after:
            assert after.extensions["network_stream"].get_extra_info("client_addr") == first  # the same connection
            after.read()
        assert after.status_code == 200

        with socket.create_connection(("127.0.0.1", _port(url)), timeout=10) as conn:  # no client-side reconnecting
            head = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            assert _exchange(conn, head).startswith(b"HTTP/1.1 500 ")
            components.broken.clear()
            assert _exchange(conn, head).startswith(b"HTTP/1.1 200 ")


def test_an_error_after_the_answer_started_still_ends_the_connection():
    """Nothing else can tell the client that a half-sent answer is broken, so that error is re-raised."""
    sent: list[dict[str, Any]] = []

    async def half_then_bug(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("broke mid-stream")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    with pytest.raises(RuntimeError, match="broke mid-stream"):
        asyncio.run(CatchUnexpected(half_then_bug)(scope, receive, send))
    assert [message["type"] for message in sent] == ["http.response.start"]  # no second answer


def test_malformed_json_is_400_and_a_schema_mismatch_422(tmp_path):
    with serve(_settings(tmp_path)) as url, httpx.Client(base_url=url, timeout=10) as client:
        as_json = {"content-type": "application/json"}
        for body in (b"{", b'{"upload_id": ', b"\xff\xfe", b"not json"):
            message = _error(client.post("/v1/jobs", content=body, headers=as_json), 400, "malformed_json")
            assert "JSON" in message
        _error(client.post("/v1/jobs", json={"upload_id": 5}), 422, "invalid_request")
        _error(client.post("/v1/jobs", json=[1, 2]), 422, "invalid_request")


@pytest.mark.parametrize("length", ["abc", "-1", "12 34", "1" * 21])
def test_a_content_length_the_http_parser_refuses_gets_its_plain_400(tmp_path, length):
    """uvicorn's parser (h11) refuses these before the app runs: what docs/http-api.md says a client sees."""
    with serve(_settings(tmp_path)) as url, socket.create_connection(("127.0.0.1", _port(url)), timeout=10) as c:
        answer = _exchange(c, f"POST /v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream"
                              f"\r\nContent-Length: {length}\r\n\r\n".encode(), until_close=True)  # fmt: skip
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ")
        assert b"content-type: text/plain" in head.lower() and b"connection: close" in head.lower()
        assert body == b"Invalid HTTP request received."  # read until the server closed the connection


def test_a_huge_but_valid_content_length_is_the_json_413(tmp_path):
    with serve(_settings(tmp_path, max_upload_mb=1)) as url, httpx.Client(base_url=url, timeout=10) as client:
        with socket.create_connection(("127.0.0.1", _port(url)), timeout=10) as conn:
            answer = _exchange(conn, b"POST /v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: video/mp4\r\n"
                                     b"Content-Length: " + b"9" * 20 + b"\r\n\r\n")  # fmt: skip
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"] == "upload_too_large"
        assert client.get("/v1/health").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("PUT", "/v1/jobs/aaaaaaaaaaaaaaaaaaaaaa", "GET, DELETE"), ("PATCH", "/v1/jobs", "GET, POST"),
     ("GET", "/v1/uploads", "POST"), ("GET", "/v1/jobs/aaaaaaaaaaaaaaaaaaaaaa/cancel", "POST"),
     ("POST", "/v1/health", "GET")],
)  # fmt: skip
def test_a_405_lists_every_method_of_the_path(tmp_path, method, path, allow):
    with serve(_settings(tmp_path)) as url, httpx.Client(base_url=url, timeout=10) as client:
        response = client.request(method, path)
        assert allow in _error(response, 405, "method_not_allowed")
        assert response.headers["allow"] == allow


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path, item in spec["paths"].items() for op in item.values() if path.startswith("/v1/")]


def test_the_spec_asks_for_a_token_only_when_the_server_needs_one(tmp_path):
    with serve(_settings(tmp_path / "loopback")) as url:
        spec = httpx.get(f"{url}/openapi.json").json()
    assert "securitySchemes" not in spec.get("components", {})
    for operation in _operations(spec):
        assert "security" not in operation
        assert "this one does not" in operation["responses"]["401"]["description"]
    with serve(_settings(tmp_path / "token", require_token=True)) as url:
        spec = httpx.get(f"{url}/openapi.json").json()  # the spec holds no data: no token needed to read it
    assert "requires it" in spec["components"]["securitySchemes"]["HTTPBearer"]["description"]
    assert all(operation["security"] == [{"HTTPBearer": []}] for operation in _operations(spec))


def test_the_event_stream_is_described_as_it_is_sent(tmp_path):
    with serve(_settings(tmp_path)) as url, httpx.Client(base_url=url, timeout=10) as client:
        spec = client.get("/openapi.json").json()
        described = spec["paths"]["/v1/jobs/{job_id}/events"]["get"]["responses"]["200"]
        media = described["content"]["text/event-stream"]
        ref = media["x-event-data"]["status"]["$ref"]
        assert ref == "#/components/schemas/JobStatus" and "JobStatus" in spec["components"]["schemas"]
        assert "event: status" in media["example"] and "JobStatus" in described["description"]

        upload = client.post("/v1/uploads", content=STREET_CLIP.read_bytes(),
                             headers={"content-type": "application/octet-stream"}).json()  # fmt: skip
        job = client.post("/v1/jobs", json={"upload_id": upload["upload_id"]}).json()
        started = time.monotonic()
        with client.stream("GET", f"/v1/jobs/{job['id']}/events") as stream:
            text = "".join(stream.iter_text())
        assert time.monotonic() - started < 10
    events = [block.split("\n") for block in text.strip().split("\n\n") if not block.startswith(":")]
    assert events and all(lines[0] == "event: status" and lines[1].startswith("data: ") for lines in events)
    statuses = [JobStatus.model_validate_json(lines[1].removeprefix("data: ")) for lines in events]
    assert statuses[-1].state == "done"
