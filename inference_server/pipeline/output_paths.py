"""Where a capture will write, checked before it starts: a capture of minutes must not fail at its last step.

The result writer (``core/result/writer.py``) writes ``.{name}.XXXXXXXX.tmp`` next to the target and renames
it; the preview writes ``.{name}.partial``. So the target's folder must be (or become) a folder, and its
name must leave room for those temporary names within the file system's limit on one name.
"""

from __future__ import annotations

import os
from pathlib import Path

from .progress import PipelineError

NAME_MAX_BYTES = 255  # the usual file-system limit on one name; os.pathconf's answer wins where it is known
# ".{name}.XXXXXXXX.tmp" is 14 bytes longer than the name (".{name}.partial" 9): 255 - 14 = 241 bytes fit.
TEMP_NAME_EXTRA = len(".") + len(".xxxxxxxx.tmp")


def _shown(name: str) -> str:
    return name if len(name) <= 40 else f"{name[:20]}...{name[-12:]}"


def check_output_path(path: str | Path, what: str) -> None:
    """Refuse an output the writer would fail on only after the whole capture: a folder, a parent that is a
    file, a name too long for the file system once the writer's temporary name is made of it."""
    target = Path(path)
    if target.is_dir():
        raise PipelineError("write", f"the {what} {target} is an existing folder; give a file name inside it")
    parent, created = target.parent, []  # the writer creates missing folders
    while not parent.exists() and parent != parent.parent:
        created.append(parent.name)
        parent = parent.parent
    if not parent.is_dir():
        raise PipelineError("write", f"the {what} {target} cannot be written: {parent} is a file, not a folder")
    try:
        limit = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no such query here (Windows)
        limit = NAME_MAX_BYTES
    limit = limit if limit > 0 else NAME_MAX_BYTES
    for folder in created:
        if len(os.fsencode(folder)) > limit:
            raise PipelineError("write", f"the folder name {_shown(folder)!r} of the {what} {target.parent} is "
                                f"{len(os.fsencode(folder))} bytes; the file system allows {limit}")  # fmt: skip
    size, room = len(os.fsencode(target.name)), limit - TEMP_NAME_EXTRA
    if size > room:
        raise PipelineError("write", f"the {what}'s file name {_shown(target.name)!r} is {size} bytes; at most {room} "
                            f"fit ({limit} per name on this file system, less {TEMP_NAME_EXTRA} for the temporary "
                            "file written next to it)")  # fmt: skip
    if not created and not os.access(parent, os.W_OK | os.X_OK):
        raise PipelineError("write", f"the {what} {target} cannot be written: no permission to write in {parent}")


def check_outputs(footage: str | Path, output: str | Path, preview: str | Path | None) -> None:
    """``check_output_path`` for the result and the preview, and neither may replace the footage or each other."""
    check_output_path(output, "result file")
    if preview is not None:
        check_output_path(preview, "preview video")
    paths = [(Path(output), "result file"), *([(Path(preview), "preview video")] if preview is not None else [])]
    source = Path(footage)
    for path, what in paths:
        if path.exists() and source.exists() and os.path.samefile(path, source):
            raise PipelineError("write", f"the {what} {path} is the footage itself; it would be overwritten")
    if preview is not None and os.path.abspath(output) == os.path.abspath(preview):
        raise PipelineError("write", f"the result file and the preview video are the same file ({output})")
