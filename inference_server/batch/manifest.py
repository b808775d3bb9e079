"""``OUTDIR/batch.json``: what happened to every clip of a batch, and what a re-run may skip.

A clip is skipped on a re-run when its entry says ``done`` with the same fingerprint (the clip's bytes
as sampled below and the capture options) and its result file is there. The manifest is rewritten
atomically after every clip, so an interrupted batch leaves a true one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = "batch.json"
SAMPLE_BYTES = 1 << 20  # the first and last MiB of a video, with its size: changed footage is noticed cheaply
STATUSES = ("done", "skipped", "failed", "cancelled", "pending")


@dataclass
class ClipRecord:
    """One clip's line in the manifest."""

    input: str
    result: str
    status: str = "pending"
    fingerprint: str = ""
    people: int | None = None
    frames: int | None = None
    seconds: float | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    quality: dict[str, float] = field(default_factory=dict)  # share of observed / filled / repaired person-frames
    worker: str | None = None  # host:pid of the Ray worker that finished it (stitched, cleaned up, wrote it)
    segments: int = 1  # how many overlapping pieces it was captured in
    resources: dict[str, dict[str, float]] = field(default_factory=dict)  # what Ray gave its estimate and finish


def _sample(path: Path) -> bytes:
    """The bytes that stand for a clip: a video's size, first and last MiB; a folder's file names and sizes."""
    if path.is_dir():
        return json.dumps([(p.name, p.stat().st_size) for p in sorted(path.iterdir()) if p.is_file()]).encode()
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(SAMPLE_BYTES)
        stream.seek(max(size - SAMPLE_BYTES, 0))
        return str(size).encode() + head + stream.read(SAMPLE_BYTES)


def fingerprint(clip: Path, options: dict[str, Any]) -> str:
    """What a finished result depends on: the clip and the options (as JSON, keys sorted)."""
    digest = hashlib.sha256(_sample(clip))
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, ClipRecord]:
    """The records by result name; empty when there is no (readable) manifest yet."""
    path = folder / MANIFEST_NAME
    try:
        entries = json.loads(path.read_text())["clips"]
        return {entry["result"]: ClipRecord(**entry) for entry in entries}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_manifest(folder: Path, records: list[ClipRecord], summary: dict[str, Any]) -> Path:
    """Replace ``folder/batch.json`` in one step (a temporary file renamed over it)."""
    text = json.dumps({"batch": summary, "clips": [asdict(r) for r in records]}, indent=2)
    return write_atomically(folder / MANIFEST_NAME, text.encode())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, data: bytes) -> Path:
    """``data`` at ``path``, all or nothing."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes it private: give it the mode any new file gets
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
