"""Footage named by server path: only inside folders the operator allowed with ``--allow-path``.

The path is resolved with every symlink followed and must then lie inside an allowed folder's real
path, so ``..`` and links pointing out of the folder are refused before anything is opened.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ApiError


def resolve_allowed_path(raw: str, roots: tuple[Path, ...]) -> Path:
    """The real path of ``raw`` if it is inside one of ``roots`` (already real paths) and exists."""
    if not roots:
        raise ApiError(
            403, "path_not_allowed",
            "this server does not read footage by path: upload it (POST /v1/uploads), or start the server "
            "with --allow-path DIR to allow files under DIR",
        )  # fmt: skip
    if "\x00" in raw or not os.path.isabs(raw):
        raise ApiError(400, "invalid_path", "path must be an absolute path on the server")
    real = Path(os.path.realpath(raw))
    if not any(real == root or real.is_relative_to(root) for root in roots):
        raise ApiError(403, "path_not_allowed", f"{raw} is outside the folders this server allows (--allow-path)")
    try:
        exists = real.exists()
    except OSError:
        exists = False
    if not exists:
        raise ApiError(404, "path_not_found", f"{raw}: no such file or folder")
    return real
