"""What a batch captures: the clips its inputs name (files, folders, globs), and the result file of each.

A folder of videos gives its videos; a folder holding images and no videos is one image-sequence clip.
Results are named after their clip (``street.mp4`` -> ``street.npz``); two clips of one name from
different folders are told apart by their folder (``day1_street.npz``, ``day2_street.npz``).
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".mts", ".wmv"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})


class BatchInputError(ValueError):
    """An input that names no clip (the message says which)."""


@dataclass(frozen=True)
class Clip:
    path: Path  # a video file or a folder of images
    name: str  # the result's stem: unique in the batch

    @property
    def result_name(self) -> str:
        return f"{self.name}.npz"


def _expand(entry: str) -> list[Path]:
    path = Path(entry).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file())
        videos = [p for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
        if videos:
            return videos
        if any(p.suffix.lower() in IMAGE_SUFFIXES for p in files):
            return [path]
        raise BatchInputError(f"{entry}: a folder with no videos or images in it")
    matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True))
    if not matches:
        raise BatchInputError(f"{entry}: no such file or folder, and no file matches it")
    return [m for m in matches if m.is_dir() or m.suffix.lower() in VIDEO_SUFFIXES]


def find_clips(inputs: list[str]) -> list[Clip]:
    """Every clip the inputs name, each once (in the order given), with a unique result name."""
    seen: dict[Path, None] = {}
    for entry in inputs:
        for path in _expand(entry):
            seen.setdefault(path.resolve(), None)
    if not seen:
        raise BatchInputError("the inputs name no clip")
    paths = list(seen)
    stems = [p.stem if p.is_file() else p.name for p in paths]
    names = []
    for path, stem in zip(paths, stems, strict=True):
        name = stem if stems.count(stem) == 1 else f"{path.parent.name}_{stem}"
        while name in names:
            name += "_"
        names.append(name)
    return [Clip(path, name) for path, name in zip(paths, names, strict=True)]
