"""What a capture is asked to do: one options record for the CLI, the server and the result file."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..motion.smoothing import DEFAULT_STRENGTH

POSE_BACKENDS = ("auto", "blazepose", "rtmo", "rtmpose")
ESTIMATORS = ("auto", "lift", "crowdnet")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16", "fp16")
MAX_ROIS = 9


class OptionsError(ValueError):
    """An option is out of range or contradicts another; the message names it."""


@dataclass(frozen=True)
class CaptureOptions:
    """Every choice a capture makes. ``None`` means "find it / use the default" (see the CLI's --help)."""

    pose_backend: str = "auto"  # auto: BlazePose for the lift estimator, else RTMO when its model is present
    pose_model: str | None = None  # RTMO or RTMPose .onnx
    detector_model: str | None = None  # person detector .onnx for RTMPose (YOLOX)
    estimator: str = "auto"  # auto: 3DCrowdNet when its checkpoint is found, else the weights-free lift
    checkpoint: str | None = None  # 3DCrowdNet checkpoint file or folder
    smpl_model: str | None = None  # SMPL model file or folder (exact shapes and skeletons)
    vposer: str | None = None  # VPoser v1.0 folder, when the checkpoint lacks the decoder
    models_dir: str | None = None  # where missing model paths are looked up
    device: str = "auto"
    start: int = 0  # first frame
    stop: int | None = None  # frame to stop before
    stride: int = 1  # process every n-th frame
    max_people: int | None = None  # keep the N longest tracks
    min_track_length: int = 10  # observed frames a person needs to be kept
    smoothing: float = DEFAULT_STRENGTH  # 0 turns smoothing off
    focal_px: float | None = None
    focal_mm: float | None = None
    sensor_width_mm: float | None = None
    fov_deg: float | None = None
    rois: int = 1  # Multi-RoI crops per person for 3DCrowdNet
    batch_size: int | None = None  # 3DCrowdNet crops per call; None picks one for the device
    precision: str = "fp32"  # 3DCrowdNet autocast precision
    foot_lock: bool = True
    ground_feet: bool = True  # move each person along their foot's ray until it stands on the fitted floor
    fix_facing: bool = True  # mirror back frames where a walker faces against their walk (front/back flips)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        _choice("pose_backend", self.pose_backend, POSE_BACKENDS)
        _choice("estimator", self.estimator, ESTIMATORS)
        _choice("precision", self.precision, PRECISIONS)
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
        if self.min_track_length < 1:
            raise OptionsError(f"min_track_length must be >= 1, got {self.min_track_length}")
        if not (math.isfinite(self.smoothing) and 0 <= self.smoothing <= 10):
            raise OptionsError(f"smoothing must be between 0 (off) and 10, got {self.smoothing}")
        if not 1 <= self.rois <= MAX_ROIS:
            raise OptionsError(f"rois must be between 1 and {MAX_ROIS}, got {self.rois}")
        if self.batch_size is not None and self.batch_size < 1:
            raise OptionsError(f"batch_size must be >= 1, got {self.batch_size}")
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


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise OptionsError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
