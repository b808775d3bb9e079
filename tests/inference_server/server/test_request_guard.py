"""What a web page in the user's browser could send, over real HTTP to a real server: none of it gets through.

A DNS-rebinding page reaches the server with a foreign ``Host``; a cross-site page sends ``Origin`` and only
CORS-safelisted content types (or none). The add-on, curl and scripts send none of these (the add-on's own
tests, ``test_addon_client.py``, run it against the guarded server).
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from inference_server.cli import main
from inference_server.server import cli_serve
from inference_server.server.request_guard import GuardPolicy, host_name
from inference_server.server.settings import ServerSettings

from .conftest import STREET_CLIP

CLIP = STREET_CLIP.read_bytes()
JOB_BODY = b'{"upload_id": "aaaaaaaaaaaaaaaaaaaaaa"}'
SIMPLE_TYPES = ["text/plain", "text/plain;charset=UTF-8", "TEXT/PLAIN", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=----x"]  # fmt: skip


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code, error
    return error["message"]


def _done_job(server) -> str:
    job = server.submit_clip()
    server.wait_state(job["id"], "done")
    return job["id"]


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8765", "LocalHost.", "127.0.0.1", "127.0.0.1:1", "127.5.6.7:8765", "[::1]",
             "[::1]:8765"],
)  # fmt: skip
def test_a_loopback_server_answers_host_names_of_this_machine(live_server, host):
    assert live_server().client.get("/v1/jobs", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8765", "192.168.1.5:8765", "attacker.localhost", "localhost.evil.example",
             "[::1", "127.0.0.1:x", "a:b:c", ""],
)  # fmt: skip
def test_a_rebound_page_can_neither_read_nor_delete_jobs(live_server, host):
    server = live_server()
    job_id = _done_job(server)
    foreign = {"host": host}
    for method, path in (("GET", "/v1/jobs"), ("GET", f"/v1/jobs/{job_id}/result"), ("DELETE", f"/v1/jobs/{job_id}"),
                         ("GET", "/openapi.json")):  # fmt: skip
        message = _error(server.client.request(method, path, headers=foreign), 421, "host_not_allowed")
        assert "--allow-host" in message or "not a host name" in message
    assert server.job(job_id)["state"] == "done"  # still there


def test_allow_host_adds_names_and_a_star_allows_any(live_server, tmp_path):
    named = live_server(allowed_hosts=("CrowdMocap.lan",), data_dir=tmp_path / "a")
    assert named.client.get("/v1/jobs", headers={"host": "crowdmocap.lan:8765"}).status_code == 200
    assert named.client.get("/v1/jobs").status_code == 200  # loopback names still work
    _error(named.client.get("/v1/jobs", headers={"host": "evil.example"}), 421, "host_not_allowed")
    anything = live_server(allowed_hosts=("*",), data_dir=tmp_path / "b")
    assert anything.client.get("/v1/jobs", headers={"host": "evil.example"}).status_code == 200


def test_a_remote_bind_is_guarded_by_its_token_and_reached_by_any_name(live_server, tmp_path):
    server = live_server(host="0.0.0.0", data_dir=tmp_path / "a")  # LiveServer listens on 127.0.0.1 still
    token = {"authorization": f"Bearer {(tmp_path / 'a' / 'token').read_text().strip()}"}
    lan = {"host": "192.168.1.5:8765"}
    _error(server.client.get("/v1/jobs", headers=lan), 401, "unauthorized")  # the token, not the name, decides
    assert server.client.get("/v1/jobs", headers={**lan, **token}).status_code == 200
    named = live_server(host="0.0.0.0", allowed_hosts=("crowdmocap.lan",), data_dir=tmp_path / "b")
    token = {"authorization": f"Bearer {(tmp_path / 'b' / 'token').read_text().strip()}"}
    _error(named.client.get("/v1/jobs", headers={**lan, **token}), 421, "host_not_allowed")  # names given: checked
    assert named.client.get("/v1/jobs", headers={"host": "crowdmocap.lan", **token}).status_code == 200


@pytest.mark.parametrize("content_type", SIMPLE_TYPES)
def test_cross_site_simple_bodies_store_and_queue_nothing(live_server, content_type):
    server = live_server()
    job_id = server.submit_clip(preview=False)["id"]
    server.wait_state(job_id, "done")
    simple = {"content-type": content_type}
    _error(server.upload(CLIP, **simple), 415, "unsupported_media_type")
    _error(server.client.post("/v1/jobs", content=JOB_BODY, headers=simple), 415, "unsupported_media_type")
    _error(server.client.post(f"/v1/jobs/{job_id}/cancel", content=b"", headers=simple), 415, "unsupported_media_type")
    assert list((server.settings.data_dir / "uploads").iterdir()) == []
    assert [job["id"] for job in server.client.get("/v1/jobs").json()["jobs"]] == [job_id]


def test_a_body_without_content_type_is_refused(live_server):
    """``fetch(url, {method: "POST", body: blob})`` with an untyped Blob: no Content-Type, no preflight."""
    server = live_server()
    for path, body in (("/v1/uploads", CLIP), ("/v1/jobs", JOB_BODY)):
        response = server.client.post(path, content=body)
        assert "content-type" not in response.request.headers
        assert "no Content-Type" in _error(response, 415, "unsupported_media_type")
    assert list((server.settings.data_dir / "uploads").iterdir()) == []
    message = _error(server.client.post("/v1/jobs", content=JOB_BODY, headers={"content-type": "application/xml"}),
                     415, "unsupported_media_type")  # fmt: skip
    assert "application/json" in message


def test_pages_from_other_sites_cannot_change_anything(live_server):
    server = live_server()
    job_id = _done_job(server)
    for origin in ("http://evil.example", "https://evil.example:8765", "null", f"http://127.0.0.1:{server.port + 1}"):
        headers = {"origin": origin}
        _error(server.client.delete(f"/v1/jobs/{job_id}", headers=headers), 403, "cross_origin_request")
        _error(server.client.post(f"/v1/jobs/{job_id}/cancel", headers=headers), 403, "cross_origin_request")
        _error(server.upload(CLIP, **headers), 403, "cross_origin_request")
        assert server.client.get(f"/v1/jobs/{job_id}", headers=headers).status_code == 200  # reads change nothing
    assert server.job(job_id)["state"] == "done"
    assert list((server.settings.data_dir / "uploads").iterdir()) == []
    own = {"origin": server.url}  # the server's own /docs page ("Try it out")
    assert server.client.delete(f"/v1/jobs/{job_id}", headers=own).status_code == 200


def test_a_site_named_by_allow_host_may_send_changes(live_server):
    server = live_server(allowed_hosts=("studio.lan",))
    job_id = _done_job(server)
    _error(server.client.delete(f"/v1/jobs/{job_id}", headers={"origin": "http://evil.example"}), 403,
           "cross_origin_request")  # fmt: skip
    assert server.client.delete(f"/v1/jobs/{job_id}", headers={"origin": "http://studio.lan:3000"}).status_code == 200


def test_host_names_are_parsed_like_a_host_header():
    assert [host_name(h) for h in ("LOCALHOST:80", "[::1]:8765", "[::1]", "127.0.0.1", "name.")] == [
        "localhost", "::1", "::1", "127.0.0.1", "name"]  # fmt: skip
    malformed = ("[::1", "[::1]x", "a:b:c", "h:8x", ":80", "")
    assert [host_name(h) for h in malformed] == [None] * len(malformed)
    assert host_name("h:") == "h"  # an empty port is allowed by RFC 3986


def test_the_policy_follows_the_bind_and_the_allowed_names(tmp_path):
    def policy(**values) -> GuardPolicy:
        return GuardPolicy.from_settings(ServerSettings(data_dir=tmp_path, **values))

    assert policy().hosts == {"127.0.0.1"} and policy(host="::1").host_allowed("localhost")
    assert policy(host="0.0.0.0").hosts is None  # remote: the token guards it, any name reaches it
    assert policy(host="10.1.2.3", allowed_hosts=("a.lan",)).hosts == {"10.1.2.3", "a.lan"}
    assert policy(host="0.0.0.0", allowed_hosts=("a.lan",)).hosts == {"a.lan"}  # a wildcard is no name
    assert policy(allowed_hosts=("*",)).hosts is None


@pytest.mark.parametrize("bad", ["http://crowdmocap.lan", "crowdmocap.lan:8765", "a b", "a/b", ""])
def test_allow_host_takes_bare_names_only(tmp_path, bad):
    with pytest.raises(ValidationError, match="--allow-host"):
        ServerSettings(data_dir=tmp_path, allowed_hosts=(bad,))


def test_serve_passes_repeated_allow_host_names_to_the_settings(tmp_path, monkeypatch, capsys):
    served = []
    monkeypatch.setattr(cli_serve, "_serve", lambda settings, runner=None: served.append(settings) or 0)
    assert main(["serve", "--data-dir", str(tmp_path), "--allow-host", "A.lan", "--allow-host", "[::2]"]) == 0
    assert served[0].allowed_hosts == ("a.lan", "::2")
    assert main(["serve", "--data-dir", str(tmp_path), "--allow-host", "http://x"]) == 2
    assert "--allow-host 'http://x'" in capsys.readouterr().err
