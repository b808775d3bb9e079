"""Which pose backend and 3D estimator a capture uses, and which model files they load.

Paths the user gave win; otherwise files are looked up in the models folder (``crowdmocap-server
models`` lists it). ``auto`` choices prefer the better model when its files are present and fall back to
the embedded defaults (BlazePose, the weights-free lift) that need nothing beyond pip.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..model_files.catalogue import find_spec
from ..model_files.folder import models_dir
from .options import CaptureOptions, OptionsError

CHUNK = 1 << 20


class MissingModelError(OptionsError):
    """A model file the chosen backend or estimator needs is not there; says what and where to get it."""


@dataclass(kw_only=True, frozen=True)
class ModelPlan:
    pose_backend: str  # blazepose | rtmo | rtmpose
    estimator: str  # lift | crowdnet
    pose_model: Path | None = None
    detector_model: Path | None = None
    landmark_model: Path | None = None  # BlazePose's landmark network as ONNX, run on each box directly
    checkpoint: Path | None = None
    smpl_model: Path | None = None
    vposer: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)  # name -> file, for provenance
    warnings: tuple[str, ...] = ()  # what the plan fell back to, said to the user with the result


def _given(path: str | None) -> Path | None:
    if path is None:
        return None
    found = Path(path).expanduser()
    if not found.exists():
        raise MissingModelError(f"{found}: no such file or folder")
    return found


def _locate(name: str, folder: Path) -> Path | None:
    return find_spec(name).locate(folder)


def _missing(name: str, folder: Path) -> MissingModelError:
    spec = find_spec(name)
    how = f"`crowdmocap-server models fetch {name}`" if spec.downloadable else spec.obtain
    return MissingModelError(f"the {name} model is needed but not found in {folder / spec.folder}; get it: {how}")


def _blazepose_models(detector: Path | None, folder: Path) -> tuple[Path | None, Path | None, tuple[str, ...]]:
    """The embedded backend's person detector (NanoDet-g, else HOG) and landmark network (ONNX, else
    MediaPipe's solution), with a warning for each fallback: both still run, but find fewer people."""
    detector = detector or _locate("nanodet-g", folder)
    landmarks = _locate("blazepose-full", folder)
    warnings = []
    if detector is None:
        warnings.append(
            "people were proposed by OpenCV's HOG detector, which misses about half of a crowd: "
            "`crowdmocap-server models fetch nanodet-g` gets the embedded person detector"
        )
    if landmarks is None:
        warnings.append(
            "BlazePose ran through MediaPipe's own per-crop detector, which loses a fifth to a third of "
            "the people found: `crowdmocap-server models fetch blazepose-full` fixes it"
        )
    return detector, landmarks, tuple(warnings)


def plan_models(options: CaptureOptions) -> ModelPlan:
    """Resolve ``auto`` choices and every model path; raise MissingModelError naming what is missing."""
    folder = models_dir(options.models_dir)
    checkpoint = _given(options.checkpoint) or _locate("3dcrowdnet", folder)
    estimator = options.estimator
    if estimator == "auto":
        estimator = "crowdnet" if checkpoint is not None else "lift"
    if estimator == "crowdnet" and checkpoint is None:
        raise _missing("3dcrowdnet", folder)
    smpl = _given(options.smpl_model) or _locate("smpl", folder)
    vposer = _given(options.vposer) or (_locate("vposer", folder) if estimator == "crowdnet" else None)

    backend, pose_model, detector = options.pose_backend, _given(options.pose_model), _given(options.detector_model)
    if backend == "auto":
        rtmo = pose_model or _locate("rtmo-l", folder) or _locate("rtmo-m", folder)
        backend = "rtmo" if estimator == "crowdnet" and rtmo is not None else "blazepose"
        pose_model = rtmo if backend == "rtmo" else None
    if estimator == "lift" and backend != "blazepose":
        raise OptionsError("the lift estimator needs BlazePose's 3D landmarks; use the blazepose pose backend")
    if backend == "rtmo":
        pose_model = pose_model or _locate("rtmo-l", folder) or _locate("rtmo-m", folder)
        if pose_model is None:
            raise _missing("rtmo-l", folder)
    elif backend == "rtmpose":
        pose_model = pose_model or _locate("rtmpose-m", folder)
        detector = detector or _locate("yolox-m", folder)
        if pose_model is None:
            raise _missing("rtmpose-m", folder)
        if detector is None:
            raise _missing("yolox-m", folder)
    landmarks, warnings = None, ()
    if backend == "blazepose":
        detector, landmarks, warnings = _blazepose_models(detector, folder)
    if estimator != "crowdnet":
        checkpoint = None
    files = {"pose_model": pose_model, "detector_model": detector, "landmark_model": landmarks,
             "checkpoint": checkpoint, "smpl_model": smpl, "vposer": vposer}  # fmt: skip
    return ModelPlan(
        pose_backend=backend, estimator=estimator, pose_model=pose_model, detector_model=detector,
        landmark_model=landmarks,
        checkpoint=checkpoint, smpl_model=smpl, vposer=vposer,
        files={name: path for name, path in files.items() if path is not None}, warnings=warnings,
    )  # fmt: skip


def file_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's files in sorted order (a VPoser snapshot folder)."""
    digest = hashlib.sha256()
    members = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for member in members:
        with member.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def provenance(plan: ModelPlan) -> dict[str, dict[str, str]]:
    """name -> {file, sha256}: enough to know exactly which weights made a result."""
    return {name: {"file": path.name, "sha256": file_sha256(path)} for name, path in plan.files.items()}
