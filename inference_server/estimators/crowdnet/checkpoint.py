"""Load the official 3DCrowdNet files strictly: every network tensor matched, or a precise error.

The release loads with ``strict=False``, which hides a wrong prefix or a renamed layer. Here the
checkpoint's ``network`` dict (``module.``-prefixed, from DataParallel) is compared key by key and
shape by shape with this implementation's official-layout state dict; anything missing, unexpected
or mis-shaped is named. The VPoser v1 encoder and the SMPL buffers the checkpoint may carry are
recognised (the first is unused, the second can stand in for the user's SMPL file).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import torch

from crowdmocap_addon.core.body.smpl_file import SmplModelData, load_smpl_model, smpl_model_from_arrays

from .errors import (
    CheckpointError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
)
from .heads import NUM_GRAPH_JOINTS
from .model import CrowdNet

log = logging.getLogger(__name__)

DATAPARALLEL_PREFIX = "module."
VPOSER_PREFIX_OFFICIAL = "vposer.vposer."
VPOSER_DECODER = "bodyprior_dec_"
VPOSER_ENCODER = "bodyprior_enc_"
SMPL_PREFIX = "human_model_layer."
SMPL_BUFFERS = ("th_betas", "th_shapedirs", "th_posedirs", "th_v_template", "th_J_regressor", "th_weights", "th_faces")
CHECKPOINT_NAMES = ("demo_checkpoint.pth.tar", "snapshot_6.pth.tar", "snapshot_10.pth.tar")
CHECKPOINT_SOURCE = (
    "the 3DCrowdNet authors' release (github.com/hongsukchoi/3DCrowdNet_RELEASE, README: 'Download the "
    "pre-trained 3DCrowdNet checkpoint'), file demo_checkpoint.pth.tar"
)
VPOSER_SOURCE = (
    "smpl-x.is.tue.mpg.de after registration (VPoser v1.0, vposer_v1_0.zip: snapshots/TR00_E096.pt; "
    "non-commercial licence)"
)

# Our stacked GCN parameter -> the release's per-joint module path inside fcbn_list.{j}.
_GCN_OURS = re.compile(r"^(rotation_net\.graph_block\.\d+\.(?:graph_block[12]\.)?)fcbn\.(\w+)$")
_GCN_FIELDS = {
    "weight": "0.weight",
    "bias": "0.bias",
    "bn_weight": "1.weight",
    "bn_bias": "1.bias",
    "running_mean": "1.running_mean",
    "running_var": "1.running_var",
    "num_batches_tracked": "1.num_batches_tracked",
}


def official_state_dict(model: CrowdNet) -> dict[str, torch.Tensor]:
    """The model's tensors under the release's names (without ``module.``): GCN unstacked per joint."""
    out: dict[str, torch.Tensor] = {}
    for key, value in model.state_dict().items():
        gcn = _GCN_OURS.match(key)
        if gcn:
            for joint in range(NUM_GRAPH_JOINTS):
                out[f"{gcn.group(1)}fcbn_list.{joint}.{_GCN_FIELDS[gcn.group(2)]}"] = value[joint]
        elif key.startswith("vposer."):
            out[VPOSER_PREFIX_OFFICIAL + key.removeprefix("vposer.")] = value
        else:
            out[key] = value
    return out


@cache
def expected_shapes() -> dict[str, tuple[int, ...]]:
    """Every network key the release's checkpoint must hold (decoder included), with its shape."""
    return {key: tuple(value.shape) for key, value in official_state_dict(CrowdNet()).items()}


def _to_ours(official: dict[str, torch.Tensor], model: CrowdNet) -> dict[str, torch.Tensor]:
    ours: dict[str, torch.Tensor] = {}
    for key in model.state_dict():
        gcn = _GCN_OURS.match(key)
        if gcn:
            field_name = _GCN_FIELDS[gcn.group(2)]
            ours[key] = torch.stack(
                [official[f"{gcn.group(1)}fcbn_list.{j}.{field_name}"] for j in range(NUM_GRAPH_JOINTS)]
            )
        elif key.startswith("vposer."):
            ours[key] = official[VPOSER_PREFIX_OFFICIAL + key.removeprefix("vposer.")]
        else:
            ours[key] = official[key]
    return ours


def _load_tensors(path: Path, what: str, where_to_get: str) -> dict:
    if not path.is_file():
        raise CheckpointNotFoundError(f"{what} {path} does not exist. Get it from {where_to_get}.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types (pickle, zip, runtime) for a damaged file
        raise CheckpointError(f"{path} is not a readable {what} ({type(exc).__name__}: {exc})") from exc


def find_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, or a folder holding one of the release's file names."""
    given = Path(path).expanduser()
    if given.is_dir():
        for name in CHECKPOINT_NAMES:
            if (given / name).is_file():
                return given / name
        raise CheckpointNotFoundError(
            f"no 3DCrowdNet checkpoint in {given} (looked for {', '.join(CHECKPOINT_NAMES)}). "
            f"Get it from {CHECKPOINT_SOURCE}."
        )
    if not given.is_file():
        raise CheckpointNotFoundError(f"3DCrowdNet checkpoint {given} does not exist. Get it from {CHECKPOINT_SOURCE}.")
    return given


def read_network_dict(path: Path) -> dict[str, torch.Tensor]:
    """The checkpoint's ``network`` state dict with the DataParallel prefix removed."""
    content = _load_tensors(path, "3DCrowdNet checkpoint", CHECKPOINT_SOURCE)
    if not isinstance(content, dict) or not isinstance(content.get("network"), dict):
        found = sorted(content)[:8] if isinstance(content, dict) else type(content).__name__
        raise CheckpointError(f"{path} has no 'network' state dict (found {found}); is it a 3DCrowdNet checkpoint?")
    return {key.removeprefix(DATAPARALLEL_PREFIX): value for key, value in content["network"].items()}


def read_vposer_decoder(path: str | Path) -> dict[str, torch.Tensor]:
    """VPoser v1.0 decoder tensors from a snapshot ``.pt`` or a VPoser folder (newest snapshots/*.pt)."""
    given = Path(path).expanduser()
    if given.is_dir():
        snapshots = sorted((given / "snapshots").glob("*.pt"), key=lambda p: p.stat().st_mtime)
        if not snapshots:
            raise CheckpointNotFoundError(
                f"no VPoser snapshot in {given / 'snapshots'} (expected e.g. TR00_E096.pt). "
                f"Get it from {VPOSER_SOURCE}."
            )
        given = snapshots[-1]
    content = _load_tensors(given, "VPoser snapshot", VPOSER_SOURCE)
    if not isinstance(content, dict):
        raise CheckpointError(f"{given} is not a VPoser state dict")
    decoder = {
        VPOSER_PREFIX_OFFICIAL + key.removeprefix(DATAPARALLEL_PREFIX): value
        for key, value in content.items()
        if key.removeprefix(DATAPARALLEL_PREFIX).startswith(VPOSER_DECODER)
    }
    if not decoder:
        raise CheckpointError(f"{given} holds no VPoser v1 decoder tensors (bodyprior_dec_*)")
    return decoder


def smpl_from_checkpoint(network: dict[str, torch.Tensor], source: Path) -> SmplModelData | None:
    """The SMPL neutral model embedded by the release (smplpytorch buffers), or None if absent."""
    buffers = {name: network.get(SMPL_PREFIX + name) for name in SMPL_BUFFERS}
    if any(value is None for name, value in buffers.items() if name != "th_betas"):
        return None
    as_np = {name: value.detach().cpu().numpy() for name, value in buffers.items() if value is not None}
    arrays = {
        "v_template": as_np["th_v_template"].reshape(-1, 3),
        "shapedirs": as_np["th_shapedirs"],
        "posedirs": as_np["th_posedirs"],
        "J_regressor": as_np["th_J_regressor"],
        "weights": as_np["th_weights"],
        "f": as_np["th_faces"].astype(np.int64),
    }
    return smpl_model_from_arrays(arrays, source, "neutral")


@dataclass(kw_only=True)
class LoadReport:
    """What was loaded from where: printed by ``models check`` and logged by the server."""

    checkpoint: Path
    matched: int
    vposer_source: str
    smpl_source: str
    ignored: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"checkpoint: {self.checkpoint}",
            f"network tensors matched: {self.matched} of {len(expected_shapes())}",
            f"VPoser decoder: {self.vposer_source}",
            f"SMPL model: {self.smpl_source}",
            *[f"recognised and unused: {count} {what}" for what, count in self.ignored.items()],
        ]


def _classify(network: dict[str, torch.Tensor], source: Path) -> tuple[int, dict[str, int]]:
    expected = expected_shapes()
    missing = [key for key in expected if key not in network]
    unexpected, mismatched, ignored = [], [], {"VPoser encoder tensors": 0, "SMPL buffers": 0}
    for key, value in network.items():
        if key in expected:
            if tuple(value.shape) != expected[key]:
                mismatched.append(f"{key}: checkpoint {tuple(value.shape)}, network expects {expected[key]}")
        elif key.startswith(VPOSER_PREFIX_OFFICIAL + VPOSER_ENCODER):
            ignored["VPoser encoder tensors"] += 1
        elif key.startswith(SMPL_PREFIX) and key.removeprefix(SMPL_PREFIX) in SMPL_BUFFERS:
            ignored["SMPL buffers"] += 1
        else:
            unexpected.append(key)
    if missing or unexpected or mismatched:
        error = CheckpointMismatchError(source, missing, unexpected, mismatched)
        log.error("%s", error)
        raise error
    return sum(key in network for key in expected), {what: n for what, n in ignored.items() if n}


def load_crowdnet(
    checkpoint: str | Path,
    *,
    smpl: str | Path | None = None,
    vposer: str | Path | None = None,
) -> tuple[CrowdNet, SmplModelData, LoadReport]:
    """Build 3DCrowdNet from the official files; raise CheckpointError/SmplModelError naming what is wrong.

    VPoser's decoder comes from the checkpoint when it holds it, else from ``vposer``. SMPL comes from
    ``smpl`` when given, else from the buffers inside the checkpoint.
    """
    path = find_checkpoint(checkpoint)
    network = read_network_dict(path)
    has_decoder = any(key.startswith(VPOSER_PREFIX_OFFICIAL + VPOSER_DECODER) for key in network)
    if has_decoder:
        vposer_source = "checkpoint"
    elif vposer is not None:
        network.update(read_vposer_decoder(vposer))
        vposer_source = str(vposer)
    else:
        raise CheckpointNotFoundError(
            f"{path} holds no VPoser decoder (vposer.vposer.bodyprior_dec_*); point CrowdMocap at the VPoser v1.0 "
            f"snapshot with --vposer PATH. Get it from {VPOSER_SOURCE}."
        )
    matched, ignored = _classify(network, path)
    if smpl is not None:
        body = load_smpl_model(smpl)
        smpl_source = str(body.source)
    else:
        embedded = smpl_from_checkpoint(network, path)
        if embedded is None:
            raise CheckpointNotFoundError(
                f"{path} carries no SMPL model buffers, and no SMPL file was given: pass --smpl PATH to "
                "SMPL_NEUTRAL.pkl / basicModel_neutral_lbs_10_207_0_v1.0.0.pkl (from smplify.is.tue.mpg.de)"
            )
        body, smpl_source = embedded, "checkpoint (SMPL neutral buffers embedded by the release)"
    model = CrowdNet()
    model.load_state_dict(_to_ours(network, model), strict=True)
    report = LoadReport(
        checkpoint=path, matched=matched, vposer_source=vposer_source, smpl_source=smpl_source, ignored=ignored
    )
    for line in report.lines():
        log.info("%s", line)
    return model, body, report
