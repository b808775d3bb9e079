"""The models folder: ``$CROWDMOCAP_MODELS``, else the platform's per-user data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_VAR = "CROWDMOCAP_MODELS"


def default_models_dir() -> Path:
    """Linux ~/.local/share/crowdmocap/models (XDG), macOS ~/Library/Application Support/CrowdMocap/models,
    Windows %LOCALAPPDATA%\\CrowdMocap\\models."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "CrowdMocap" / "models"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "CrowdMocap" / "models"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "crowdmocap" / "models"


def models_dir(override: str | Path | None = None) -> Path:
    """The folder to use: an explicit override, then $CROWDMOCAP_MODELS, then the platform default."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else default_models_dir()
