"""What this machine can run right now: the server's health report and `crowdmocap-server` diagnostics."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from ..model_files.catalogue import CATALOGUE, find_spec
from ..model_files.folder import models_dir


def _status(usable: bool, detail: str) -> dict[str, Any]:
    return {"usable": usable, "detail": detail}


def _found(name: str, folder: Path) -> Path | None:
    return find_spec(name).locate(folder)


def describe_device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return "cpu"


def available_components(folder: str | Path | None = None) -> dict[str, Any]:
    """Estimators and pose backends with whether each is usable and why not; model files missing."""
    models = models_dir(folder)
    has_mediapipe = importlib.util.find_spec("mediapipe") is not None
    has_onnx = importlib.util.find_spec("onnxruntime") is not None
    checkpoint, smpl = _found("3dcrowdnet", models), _found("smpl", models)
    rtmo = _found("rtmo-l", models) or _found("rtmo-m", models)
    rtmpose, yolox = _found("rtmpose-m", models), _found("yolox-m", models)
    lift_detail = "weights-free, " + ("SMPL shapes" if smpl else "stand-in skeleton (no SMPL file)")
    if not has_mediapipe:
        lift_detail = "needs mediapipe: pip install mediapipe==0.10.21"
    estimators = {
        "lift": _status(has_mediapipe, lift_detail),
        "crowdnet": _status(checkpoint is not None, f"checkpoint {checkpoint.name}" if checkpoint
                            else f"no 3DCrowdNet checkpoint in {models / '3dcrowdnet'}"),
    }  # fmt: skip
    backends = {
        "blazepose": _status(has_mediapipe, "bundled in mediapipe" if has_mediapipe else "mediapipe not installed"),
        "rtmo": _status(has_onnx and rtmo is not None, rtmo.name if rtmo else "no RTMO model: models fetch rtmo-l"),
        "rtmpose": _status(has_onnx and rtmpose is not None and yolox is not None,
                           "RTMPose + YOLOX" if rtmpose and yolox else "needs rtmpose-m and yolox-m: models fetch"),
    }  # fmt: skip
    missing = [spec.name for spec in CATALOGUE if spec.locate(models) is None]
    return {
        "estimators": estimators,
        "pose_backends": backends,
        "missing_models": missing,
        "models_dir": str(models),
        "device": describe_device(),
    }
