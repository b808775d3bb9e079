"""Default address, port, upload limits and data folder; free of pydantic so the CLI can show them cheaply."""

from __future__ import annotations

from pathlib import Path

from ..model_files.folder import default_models_dir

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_UPLOAD_MB = 4096
DEFAULT_UPLOAD_KEEP_HOURS = 24.0  # an upload no job took is deleted after this long


def default_data_dir() -> Path:
    """Beside the models folder in the platform's per-user data folder (~/.local/share/crowdmocap/server)."""
    return default_models_dir().parent / "server"
