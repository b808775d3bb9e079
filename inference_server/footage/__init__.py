"""Footage in: video files (anything FFmpeg reads) and image-sequence folders, streamed frame by frame."""

from .reader import Footage, FootageError, FootageInfo, Frame, open_footage

__all__ = ["Footage", "FootageError", "FootageInfo", "Frame", "open_footage"]
