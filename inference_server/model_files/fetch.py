"""Download a model archive safely: stream to a temp file, verify sha256, unpack, then move into place.

Nothing appears under the final name until the archive is complete and verified, so an interrupted or
failed fetch leaves the models folder as it was (a stale ``*.part`` file is replaced next time).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .catalogue import ModelSpec

CHUNK = 1 << 16
TIMEOUT_S = 60


class ModelFetchError(RuntimeError):
    """A download failed; the message says which URL and why."""


ProgressCallback = Callable[[int, int | None], None]  # (bytes so far, total or None)


@dataclass(frozen=True)
class Fetched:
    path: Path  # the model file now in use
    sha256: str  # digest of the downloaded archive


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


def fetch(
    spec: ModelSpec,
    models: Path,
    *,
    url: str | None = None,
    allow_unpinned: bool = False,
    progress: ProgressCallback | None = None,
) -> Fetched:
    """Fetch ``spec`` into ``models/<spec.folder>``; returns the located model file and the archive digest.

    ``url`` overrides the catalogue address (mirrors, tests). Archives whose sha256 is not pinned in
    the catalogue are refused unless ``allow_unpinned``; the digest is reported either way.
    """
    source = url or spec.url
    if source is None:
        raise ModelFetchError(
            f"{spec.name} cannot be downloaded by CrowdMocap ({spec.licence}). Get it: {spec.obtain}, "
            f"into {models / spec.folder}"
        )
    if spec.sha256 is None and not allow_unpinned:
        raise ModelFetchError(
            f"{spec.name}: no sha256 is pinned for {source} yet, so it cannot be verified; "
            "rerun with --allow-unpinned to download it anyway (the digest will be printed)"
        )
    models.mkdir(parents=True, exist_ok=True)
    part = models / f".{spec.name}.part"
    try:
        digest = _download(source, part, progress)
        if spec.sha256 is not None and digest != spec.sha256:
            raise ModelFetchError(f"{source}: sha256 {digest} does not match the pinned {spec.sha256}")
        final = models / spec.folder
        with tempfile.TemporaryDirectory(prefix=f".{spec.name}-", dir=models) as staging:
            try:
                with zipfile.ZipFile(part) as archive:
                    archive.extractall(staging)
            except zipfile.BadZipFile as exc:
                raise ModelFetchError(f"{source}: not a zip archive ({exc})") from exc
            if final.exists():
                shutil.rmtree(final)
            Path(staging).replace(final)
            Path(staging).mkdir()  # TemporaryDirectory wants something to clean up
    finally:
        part.unlink(missing_ok=True)
    located = spec.locate(models)
    if located is None:
        raise ModelFetchError(f"{source}: the archive holds no file matching {', '.join(spec.patterns)}")
    return Fetched(located, digest)
