"""Every model file CrowdMocap can use: what it is for, its licence, where it goes, how to get it.

Freely licensed ONNX exports are downloadable (``crowdmocap-server models fetch NAME``). Licence-gated
files (SMPL, VPoser) and the 3DCrowdNet checkpoint (hosted on Google Drive) are never downloaded by us:
the catalogue says where to register or download and where to put the file.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

_OPENMMLAB = "https://download.openmmlab.com/mmpose/v1/projects"


@dataclass(kw_only=True, frozen=True)
class ModelSpec:
    name: str
    purpose: str
    licence: str
    folder: str  # subfolder of the models folder
    patterns: tuple[str, ...]  # glob patterns (inside ``folder``) any of which means "found"
    url: str | None = None  # downloadable archive, when the licence allows us to fetch it
    sha256: str | None = None  # pinned digest of the archive; None until a maintainer pins it
    obtain: str = ""  # for files we may not download: where the user gets them
    bundled_module: str | None = None  # found when this Python module is installed (models inside a wheel)

    @property
    def downloadable(self) -> bool:
        return self.url is not None

    def locate(self, models: Path) -> Path | None:
        """The file in use, or None."""
        if self.bundled_module is not None:
            spec = importlib.util.find_spec(self.bundled_module)
            return Path(spec.origin).parent if spec and spec.origin else None
        for pattern in self.patterns:
            found = sorted((models / self.folder).glob(pattern))
            if found:
                return found[0]
        return None


def _openmmlab(name: str, purpose: str, path: str) -> ModelSpec:
    """An OpenMMLab ONNX export (Apache-2.0): a zip unpacked into its own folder, holding one .onnx."""
    return ModelSpec(name=name, purpose=purpose, licence="Apache-2.0 (OpenMMLab)", folder=name,
                     patterns=("**/*.onnx",), url=f"{_OPENMMLAB}/{path}")  # fmt: skip


CATALOGUE: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="blazepose",
        purpose="embedded default 2D poses (MediaPipe BlazePose full, with OpenCV HOG proposals)",
        licence="Apache-2.0",
        folder="",
        patterns=(),
        bundled_module="mediapipe",
        obtain="bundled in the mediapipe==0.10.21 wheel (installed by `make`)",
    ),
    _openmmlab(
        "rtmo-m",
        "crowd-grade one-stage 2D poses (RTMO-m, body7, 640x640)",
        "rtmo/onnx_sdk/rtmo-m_16xb16-600e_body7-640x640-39e78cc4_20231211.zip",
    ),
    _openmmlab(
        "rtmo-l",
        "crowd-grade one-stage 2D poses (RTMO-l, body7, 640x640), the most accurate on CrowdPose",
        "rtmo/onnx_sdk/rtmo-l_16xb16-600e_body7-640x640-b37118ce_20231211.zip",
    ),
    _openmmlab(
        "rtmpose-m",
        "top-down 2D poses per detected person (RTMPose-m, body7, 256x192)",
        "rtmposev1/onnx_sdk/rtmpose-m_simcc-body7_pt-body7_420e-256x192-e48f03d0_20230504.zip",
    ),
    _openmmlab(
        "yolox-m",
        "person detector for RTMPose (YOLOX-m, HumanArt, 640x640)",
        "rtmposev1/onnx_sdk/yolox_m_8xb8-300e_humanart-c2c7a14a.zip",
    ),
    ModelSpec(
        name="3dcrowdnet",
        purpose="3DCrowdNet checkpoint: the 3D body estimator",
        licence="code MIT; no licence stated for the weights, which embed SMPL and VPoser data (non-commercial)",
        folder="3dcrowdnet",
        patterns=("demo_checkpoint.pth.tar", "snapshot_*.pth.tar"),
        obtain="the authors' release (github.com/hongsukchoi/3DCrowdNet_RELEASE, README link to Google Drive); "
        "save demo_checkpoint.pth.tar",
    ),
    ModelSpec(
        name="smpl",
        purpose="SMPL body model: exact body meshes and rest skeletons",
        licence="SMPL / SMPLify licence: non-commercial research only, registration required",
        folder="smpl",
        patterns=("SMPL_NEUTRAL.*", "basicModel_neutral_*.pkl", "basicmodel_neutral_*.pkl"),
        obtain="register at https://smplify.is.tue.mpg.de (neutral) or https://smpl.is.tue.mpg.de; "
        "save SMPL_NEUTRAL.pkl (or basicModel_neutral_lbs_10_207_0_v1.0.0.pkl)",
    ),
    ModelSpec(
        name="vposer",
        purpose="VPoser v1.0 decoder, if your 3DCrowdNet checkpoint lacks it",
        licence="MPG non-commercial research licence, registration required",
        folder="vposer_v1_0",
        patterns=("snapshots/*.pt",),
        obtain="register at https://smpl-x.is.tue.mpg.de, download vposer_v1_0.zip and unpack it",
    ),
)


class UnknownModelError(LookupError):
    def __str__(self) -> str:  # LookupError would quote the message like a key
        return str(self.args[0])


def find_spec(name: str) -> ModelSpec:
    for spec in CATALOGUE:
        if spec.name == name:
            return spec
    raise UnknownModelError(f"unknown model {name!r}; known: {', '.join(s.name for s in CATALOGUE)}")
