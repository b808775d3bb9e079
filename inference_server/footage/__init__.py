"""Footage in: video files (anything FFmpeg reads) and image-sequence folders, streamed frame by frame.

The names below are imported from ``reader`` on first use (PEP 562), because ``reader`` loads av and cv2.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reader import Footage, FootageError, FootageInfo, Frame, open_footage

__all__ = ["Footage", "FootageError", "FootageInfo", "Frame", "open_footage"]


def __getattr__(name: str) -> Any:
    """Import a re-exported name from ``reader`` the first time it is asked for, then keep it."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(".reader", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
