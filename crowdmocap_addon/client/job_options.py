"""The panel's capture settings as the server's JobOptions (pure: tested without Blender)."""

from __future__ import annotations

from typing import Any

from ..core.options import CAPTURE_OPTIONS
from ..scene.timeline import FRAME_OFFSET

FOCAL_MODES = ("AUTO", "PIXELS", "MILLIMETRES", "FOV")
_DEFAULT = {name: option.default for name, option in CAPTURE_OPTIONS.items()}


def job_options(
    *,
    pose_backend: str = _DEFAULT["pose_backend"],
    estimator: str = _DEFAULT["estimator"],
    frame_start: int = FRAME_OFFSET,
    frame_end: int = 0,
    stride: int = 1,
    max_people: int = 0,
    min_track_length: int = _DEFAULT["min_track_length"],
    relink: bool = _DEFAULT["relink"],
    smoothing: float = _DEFAULT["smoothing"],
    foot_lock: bool = _DEFAULT["foot_lock"],
    ground_feet: bool = _DEFAULT["ground_feet"],
    fix_facing: bool = _DEFAULT["fix_facing"],
    temporal_fit: bool = _DEFAULT["temporal_fit"],
    fit_smoothness: float = _DEFAULT["fit_smoothness"],
    top_speed: float = _DEFAULT["top_speed"],
    still_camera: bool = _DEFAULT["still_camera"],
    focal_mode: str = "AUTO",
    focal_px: float = 0.0,
    focal_mm: float = 0.0,
    sensor_width_mm: float = 36.0,
    fov_deg: float = 0.0,
    preview: bool = False,
) -> dict[str, Any]:
    """Panel values -> the JSON ``options`` of ``POST /v1/jobs``; 0 means "not set" for the end frame and max people.

    Frames are Blender's, as the panel shows them and the import lays them out (video frame f is scene
    frame f + FRAME_OFFSET); ``frame_end`` is the last frame to include. The server counts from 0.
    """
    if focal_mode not in FOCAL_MODES:
        raise ValueError(f"focal mode must be one of {', '.join(FOCAL_MODES)}, got {focal_mode!r}")
    if 0 < frame_end < frame_start:
        raise ValueError(f"the end frame ({frame_end}) comes before the start frame ({frame_start})")
    options: dict[str, Any] = {
        "pose_backend": pose_backend, "estimator": estimator, "start": max(int(frame_start) - FRAME_OFFSET, 0),
        "stride": int(stride),
        "min_track_length": int(min_track_length), "relink": bool(relink), "smoothing": float(smoothing),
        "foot_lock": bool(foot_lock), "ground_feet": bool(ground_feet), "fix_facing": bool(fix_facing),
        "temporal_fit": bool(temporal_fit), "fit_smoothness": float(fit_smoothness), "top_speed": float(top_speed),
        "preview": bool(preview), "still_camera": bool(still_camera),
    }  # fmt: skip
    if frame_end > 0:
        options["stop"] = int(frame_end) - FRAME_OFFSET + 1
    if max_people > 0:
        options["max_people"] = int(max_people)
    if focal_mode == "PIXELS":
        options["focal_px"] = float(focal_px)
    elif focal_mode == "MILLIMETRES":
        options["focal_mm"], options["sensor_width_mm"] = float(focal_mm), float(sensor_width_mm)
    elif focal_mode == "FOV":
        options["fov_deg"] = float(fov_deg)
    return options
