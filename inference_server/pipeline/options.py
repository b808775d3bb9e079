"""What a capture is asked to do: one options record for the CLI, the server and the result file."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from crowdmocap_addon.core.options import CAPTURE_OPTIONS, ESTIMATORS, MAX_ROIS, POSE_BACKENDS, PRECISIONS

__all__ = ["ESTIMATORS", "MAX_ROIS", "POSE_BACKENDS", "PRECISIONS", "CaptureOptions", "OptionsError"]
DEVICES = ("auto", "cpu", "cuda")
_DEFAULT = {name: option.default for name, option in CAPTURE_OPTIONS.items()}


class OptionsError(ValueError):
    """An option is out of range or contradicts another; the message names it."""


@dataclass(frozen=True)
class CaptureOptions:
    """Every choice a capture makes. ``None`` means "find it / use the default" (see the CLI's --help).

    The options users see in several places take their defaults and bounds from ``core.options``.
    """

    pose_backend: str = _DEFAULT["pose_backend"]
    pose_model: str | None = None  # RTMO or RTMPose .onnx
    detector_model: str | None = None  # person detector .onnx for RTMPose (YOLOX)
    estimator: str = _DEFAULT["estimator"]
    checkpoint: str | None = None  # 3DCrowdNet checkpoint file or folder
    smpl_model: str | None = None  # SMPL model file or folder (exact shapes and skeletons)
    vposer: str | None = None  # VPoser v1.0 folder, when the checkpoint lacks the decoder
    models_dir: str | None = None  # where missing model paths are looked up
    device: str = "auto"
    start: int = 0  # first frame
    stop: int | None = None  # frame to stop before
    stride: int = 1  # process every n-th frame
    max_people: int | None = None  # keep the N longest tracks
    min_track_length: int = _DEFAULT["min_track_length"]
    relink: bool = _DEFAULT["relink"]
    tracked_regions: bool = _DEFAULT["tracked_regions"]
    still_camera: bool = _DEFAULT["still_camera"]
    smoothing: float = _DEFAULT["smoothing"]
    focal_px: float | None = None
    focal_mm: float | None = None
    sensor_width_mm: float | None = None
    fov_deg: float | None = None
    rois: int = _DEFAULT["rois"]
    batch_size: int | None = _DEFAULT["batch_size"]  # None picks one for the device
    precision: str = _DEFAULT["precision"]
    foot_lock: bool = _DEFAULT["foot_lock"]
    ground_feet: bool = _DEFAULT["ground_feet"]
    fix_facing: bool = _DEFAULT["fix_facing"]
    temporal_fit: bool = _DEFAULT["temporal_fit"]
    fit_smoothness: float = _DEFAULT["fit_smoothness"]
    top_speed: float = _DEFAULT["top_speed"]

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        for name, option in CAPTURE_OPTIONS.items():
            value = getattr(self, name)
            problem = option.check(value) if value is not None else None
            if problem:
                raise OptionsError(problem)
        if not (self.device in DEVICES or self.device.startswith("cuda:")):
            raise OptionsError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.start < 0:
            raise OptionsError(f"start must be >= 0, got {self.start}")
        if self.stop is not None and self.stop <= self.start:
            raise OptionsError(f"stop ({self.stop}) must be after start ({self.start})")
        if self.stride < 1:
            raise OptionsError(f"stride must be >= 1, got {self.stride}")
        if self.max_people is not None and self.max_people < 1:
            raise OptionsError(f"max_people must be >= 1, got {self.max_people}")
        if not math.isfinite(self.smoothing):
            raise OptionsError(f"smoothing must be a finite number, got {self.smoothing}")
        given = [name for name in ("focal_px", "focal_mm", "fov_deg") if getattr(self, name) is not None]
        if len(given) > 1:
            raise OptionsError(f"give the focal length one way only, got {' and '.join(given)}")
        if self.estimator == "lift" and self.pose_backend in ("rtmo", "rtmpose"):
            raise OptionsError(
                "the lift estimator needs BlazePose's 3D landmarks: use pose_backend blazepose (or auto), "
                "or the 3DCrowdNet estimator with RTMO/RTMPose"
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CaptureOptions:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise OptionsError(f"unknown option(s): {', '.join(unknown)}")
        try:
            return cls(**values)
        except TypeError as exc:
            raise OptionsError(str(exc)) from exc
