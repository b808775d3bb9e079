"""Find the capture's footage on disk, so the camera can show it behind the characters."""

from __future__ import annotations

from pathlib import Path


def find_footage(video_path: str, result_path: str | Path) -> Path | None:
    """The result's ``video.path`` as an existing file: as written, then beside the result file; else None.

    Missing footage is normal (results travel without their videos): the scene is built without it.
    """
    if not video_path:
        return None
    given = Path(video_path).expanduser()
    candidates = (
        [given]
        if given.is_absolute()
        else [Path(result_path).parent / given, given, Path(result_path).parent / given.name]
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    return None
