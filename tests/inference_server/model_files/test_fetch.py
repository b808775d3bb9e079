"""Fetching model archives from a real HTTP server on 127.0.0.1: success, bad checksum, HTTP error, cut-off,
trust on first use for unpinned archives, and the unpacked model's signature."""

import hashlib
import http.server
import io
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from inference_server.model_files.catalogue import CATALOGUE, find_spec
from inference_server.model_files.fetch import ModelFetchError, fetch
from inference_server.model_files.folder import models_dir
from tests.helpers import tiny_onnx

ONNX_PATH = "20231211/rtmo-test/end2end.onnx"


def _tiny(build, **kwargs) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return build(Path(folder) / "model.onnx", **kwargs).read_bytes()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


RTMO = _tiny(tiny_onnx.rtmo)
ARCHIVE = _zip({ONNX_PATH: RTMO, "20231211/rtmo-test/pipeline.json": b"{}"})
DIGEST = hashlib.sha256(ARCHIVE).hexdigest()
ARCHIVES = {
    "/model.zip": ARCHIVE,
    "/changed.zip": _zip({ONNX_PATH: _tiny(tiny_onnx.rtmo, people=5)}),  # same signature, other bytes
    "/rtmpose.zip": _zip({"end2end.onnx": _tiny(tiny_onnx.rtmpose)}),  # the wrong model for RTMO
    "/two.zip": _zip({"a.onnx": RTMO, "b/b.onnx": RTMO}),
    "/garbage.zip": _zip({"end2end.onnx": b"not onnx"}),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path in ARCHIVES:
            self.send_response(200)
            self.send_header("Content-Length", str(len(ARCHIVES[self.path])))
            self.end_headers()
            self.wfile.write(ARCHIVES[self.path])
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
    assert fetched.path.read_bytes() == RTMO and fetched.sha256 == DIGEST and not fetched.trusted_on_first_use
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
    assert (tmp_path / "rtmo-m" / ONNX_PATH).read_bytes() == RTMO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rtmo-m"]


def test_unpinned_archives_are_trusted_on_first_use_then_held_to_it(tmp_path, server):
    unpinned = find_spec("rtmo-m")
    assert unpinned.sha256 is None
    first = fetch(unpinned, tmp_path, url=f"{server}/model.zip")
    assert first.trusted_on_first_use and first.sha256 == DIGEST
    assert (tmp_path / "rtmo-m" / "SHA256").read_text().strip() == DIGEST
    again = fetch(unpinned, tmp_path, url=f"{server}/model.zip")
    assert not again.trusted_on_first_use and again.sha256 == DIGEST
    with pytest.raises(ModelFetchError, match=f"differs from {DIGEST}, recorded at the first download"):
        fetch(unpinned, tmp_path, url=f"{server}/changed.zip")
    assert (tmp_path / "rtmo-m" / ONNX_PATH).read_bytes() == RTMO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rtmo-m"]


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        ("rtmpose.zip", r"end2end\.onnx does not fit the rtmo-m backend: expected dets \(1, N, 5\)"),
        ("two.zip", "exactly one .onnx file, it holds 2"),
        ("garbage.zip", "end2end.onnx is not a loadable ONNX model"),
    ],
)
def test_what_cannot_be_pinned_is_checked(tmp_path, server, archive, message):
    with pytest.raises(ModelFetchError, match=message):
        fetch(find_spec("rtmo-m"), tmp_path, url=f"{server}/{archive}")
    assert list(tmp_path.iterdir()) == []  # nothing recorded either: the next try is a first use again


def test_cli_says_when_it_trusted_the_first_download_and_skips_when_present(tmp_path, server):
    env = {**os.environ, "CROWDMOCAP_MODELS": str(tmp_path)}
    command = [sys.executable, "-m", "inference_server", "models", "fetch", "rtmo-m", "--url", f"{server}/model.zip"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "trusted on first use" in done.stdout and DIGEST in done.stdout
    done = subprocess.run([*command[:-2], "--if-missing"], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert f"rtmo-m is already in place: {tmp_path / 'rtmo-m' / ONNX_PATH}" in done.stdout


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
