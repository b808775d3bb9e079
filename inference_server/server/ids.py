"""Unguessable ids for jobs and uploads, and the format check that runs before any id touches a path."""

from __future__ import annotations

import re
import secrets

ID_BYTES = 16
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")  # token_urlsafe(16): 22 URL-safe base64 characters


def new_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def is_valid_id(value: str) -> bool:
    """Only ids this server could have made: no separators, dots or other path syntax can get through."""
    return _ID_PATTERN.fullmatch(value) is not None
