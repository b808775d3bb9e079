"""Fetching model archives from a real HTTP server on 127.0.0.1: success, bad checksum, HTTP error, cut-off."""

import hashlib
import http.server
import io
import subprocess
import sys
import threading
import zipfile
from dataclasses import replace

import pytest

from inference_server.model_files.catalogue import CATALOGUE, find_spec
from inference_server.model_files.fetch import ModelFetchError, fetch
from inference_server.model_files.folder import models_dir


def _archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("20231211/rtmo-test/end2end.onnx", b"onnx bytes")
        archive.writestr("20231211/rtmo-test/pipeline.json", b"{}")
    return buffer.getvalue()


ARCHIVE = _archive()
DIGEST = hashlib.sha256(ARCHIVE).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/model.zip":
            self.send_response(200)
            self.send_header("Content-Length", str(len(ARCHIVE)))
            self.end_headers()
            self.wfile.write(ARCHIVE)
        elif self.path == "/cut.zip":  # promises the whole archive, sends half, hangs up
            self.send_response(200)
            self.send_header("Content-Length", str(len(ARCHIVE)))
            self.end_headers()
            self.wfile.write(ARCHIVE[: len(ARCHIVE) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send_error(404, "no such model")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def spec():
    return replace(find_spec("rtmo-m"), sha256=DIGEST)


def test_fetch_verifies_unpacks_and_finds_the_model(tmp_path, server, spec):
    seen = []
    fetched = fetch(spec, tmp_path, url=f"{server}/model.zip", progress=lambda done, total: seen.append((done, total)))
    assert fetched.path == tmp_path / "rtmo-m" / "20231211" / "rtmo-test" / "end2end.onnx"
    assert fetched.path.read_bytes() == b"onnx bytes" and fetched.sha256 == DIGEST
    assert seen[-1] == (len(ARCHIVE), len(ARCHIVE))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rtmo-m"]  # no temp files left
    assert spec.locate(tmp_path) == fetched.path


def test_checksum_mismatch_leaves_nothing_behind(tmp_path, server, spec):
    wrong = replace(spec, sha256="0" * 64)
    with pytest.raises(ModelFetchError, match="does not match the pinned"):
        fetch(wrong, tmp_path, url=f"{server}/model.zip")
    assert list(tmp_path.iterdir()) == []


def test_http_error_names_the_address_and_status(tmp_path, server, spec):
    with pytest.raises(ModelFetchError, match=r"missing\.zip: the server answered HTTP 404"):
        fetch(spec, tmp_path, url=f"{server}/missing.zip")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_download_keeps_the_previous_model(tmp_path, server, spec):
    fetch(spec, tmp_path, url=f"{server}/model.zip")
    with pytest.raises(ModelFetchError, match="interrupted"):
        fetch(spec, tmp_path, url=f"{server}/cut.zip")
    assert (tmp_path / "rtmo-m" / "20231211" / "rtmo-test" / "end2end.onnx").read_bytes() == b"onnx bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rtmo-m"]


def test_unpinned_archives_need_explicit_consent(tmp_path, server):
    unpinned = find_spec("rtmo-m")
    assert unpinned.sha256 is None
    with pytest.raises(ModelFetchError, match="no sha256 is pinned"):
        fetch(unpinned, tmp_path, url=f"{server}/model.zip")
    assert fetch(unpinned, tmp_path, url=f"{server}/model.zip", allow_unpinned=True).sha256 == DIGEST


def test_gated_models_are_never_downloaded(tmp_path):
    for name in ("smpl", "vposer", "3dcrowdnet"):
        with pytest.raises(ModelFetchError, match="cannot be downloaded by CrowdMocap") as err:
            fetch(find_spec(name), tmp_path)
        assert str(tmp_path / find_spec(name).folder) in str(err.value)
    assert "smplify.is.tue.mpg.de" in find_spec("smpl").obtain


def test_models_folder_and_listing(tmp_path, monkeypatch, smpl_npz):
    monkeypatch.setenv("CROWDMOCAP_MODELS", str(tmp_path))
    assert models_dir() == tmp_path and models_dir("/elsewhere").as_posix() == "/elsewhere"
    (tmp_path / "smpl").mkdir()
    (tmp_path / "smpl" / "SMPL_NEUTRAL.npz").write_bytes(smpl_npz.read_bytes())
    done = subprocess.run([sys.executable, "-m", "inference_server", "models"], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"found: {tmp_path / 'smpl' / 'SMPL_NEUTRAL.npz'}" in done.stdout
    assert f"missing (looked in {tmp_path / 'rtmo-l'})" in done.stdout
    assert "crowdmocap-server models fetch rtmo-l" in done.stdout
    assert all(spec.name in done.stdout for spec in CATALOGUE)
