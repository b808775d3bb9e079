"""3DCrowdNet as one predictor: people (image + 2D pose) in, SMPL parameters in one full-image camera out.

It owns pre- and post-processing: boxes from the poses, crops, batching across people and frames,
the network (optionally under autocast), SMPL, the crop-to-full camera conversion and, with
``rois > 1``, Multi-RoI fusion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from crowdmocap_addon.core.body.smpl_file import SmplModelData
from crowdmocap_addon.core.result.schema import PinholeCamera

from ...body.smpl_layer import SmplBody
from ...devices import resolve_device
from .camera import crop_to_full_translation, crop_translation
from .checkpoint import LoadReport, load_crowdnet
from .joint_sets import to_superset
from .model import CrowdNet, CrowdNetRaw
from .multi_roi import fuse_rois, roi_boxes
from .preprocess import (
    DEFAULT_VALIDITY_THRESHOLD,
    CrowdNetInput,
    person_box,
    prepare_crop,
)
from .rotations import axis_angle_to_matrix, matrix_to_axis_angle

AUTOCAST_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
# Crops per network call when the caller does not say: on a CPU larger batches only thrash the cache
# (bench/crowdnet_throughput.py: batch 8 is fastest on 2 cores); a GPU wants wide batches.
DEFAULT_BATCH = {False: 8, True: 64}


@dataclass(frozen=True)
class PersonRequest:
    """One person to reconstruct: which image, their 2D keypoints (K, 3) in image pixels and, when the
    camera zoomed, that frame's focal length (else the camera's)."""

    image_index: int
    keypoints: np.ndarray
    focal_px: float | None = None


@dataclass(kw_only=True, frozen=True)
class PersonEstimate:
    """3DCrowdNet's answer for one person, in the full-image camera (OpenCV axes, metres)."""

    global_orient: np.ndarray  # (3,)
    body_pose: np.ndarray  # (23, 3)
    betas: np.ndarray  # (10,)
    transl: np.ndarray  # (3,)
    joints: np.ndarray  # (24, 3) SMPL joints in the camera frame
    bbox: np.ndarray  # (4,) crop box [x, y, w, h]
    crop_transl: np.ndarray  # (3,) the release's crop-camera translation
    joint_score: np.ndarray  # (15,) PositionNet confidences
    camera_spread: float  # Multi-RoI disagreement (m); 0 with a single RoI


class CrowdNetPredictor:
    def __init__(
        self,
        *,
        network: CrowdNet,
        smpl: SmplModelData,
        device: str = "auto",
        batch_size: int | None = None,
        precision: str = "fp32",
        rois: int = 1,
        joint_set: str = "coco17",
        threshold: float = DEFAULT_VALIDITY_THRESHOLD,
        channels_last: bool = True,
    ) -> None:
        if precision not in AUTOCAST_DTYPES:
            raise ValueError(f"precision must be one of {', '.join(AUTOCAST_DTYPES)}, got {precision!r}")
        roi_boxes(np.array([0.0, 0.0, 1.0, 1.0]), rois)  # validates the count
        self.device = resolve_device(device)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.network = network.to(self.device, memory_format=self.memory_format).eval()
        self.body = SmplBody(smpl).to(self.device).eval()
        self.batch_size = batch_size or DEFAULT_BATCH[self.device.type == "cuda"]
        self.precision, self.rois = precision, rois
        self.joint_set, self.threshold = joint_set, threshold

    @classmethod
    def from_files(
        cls, checkpoint: str | Path, *, smpl: str | Path | None = None, vposer: str | Path | None = None, **options
    ) -> tuple[CrowdNetPredictor, LoadReport]:
        network, body, report = load_crowdnet(checkpoint, smpl=smpl, vposer=vposer)
        return cls(network=network, smpl=body, **options), report

    def _crops(self, images: Sequence[np.ndarray], people: Sequence[PersonRequest]):
        crops: list[CrowdNetInput] = []
        owners: list[int] = []  # index into `people` for each crop
        for index, person in enumerate(people):
            image = images[person.image_index]
            joints30 = to_superset(person.keypoints, self.joint_set)
            box = person_box(joints30, image.shape[1], image.shape[0], self.threshold)
            if box is None:
                continue
            for roi in roi_boxes(box, self.rois):
                crops.append(prepare_crop(image, joints30, roi, self.threshold))
                owners.append(index)
        return crops, owners

    @torch.inference_mode()
    def _run_network(self, crops: list[CrowdNetInput]) -> CrowdNetRaw:
        outputs = []
        autocast = AUTOCAST_DTYPES[self.precision]
        for start in range(0, len(crops), self.batch_size):
            chunk = crops[start : start + self.batch_size]
            image = torch.from_numpy(np.stack([c.image for c in chunk])).to(self.device)
            image = image.contiguous(memory_format=self.memory_format)
            joints = torch.from_numpy(np.stack([c.joints for c in chunk])).to(self.device)
            mask = torch.from_numpy(np.stack([c.mask for c in chunk])).to(self.device)
            with torch.autocast(self.device.type, dtype=autocast, enabled=autocast is not None):
                raw = self.network(image, joints, mask)
            outputs.append({name: value.float() for name, value in raw.__dict__.items()})
        return CrowdNetRaw(**{name: torch.cat([o[name] for o in outputs]) for name in outputs[0]})

    def _rest_pelvis(self, betas: torch.Tensor) -> torch.Tensor:
        """(N, 10) -> (N, 3): row 0 of J_regressor applied to the shaped template."""
        layer = self.body.layer
        shaped = layer.v_template + torch.einsum("vck,nk->nvc", layer.shapedirs, betas)
        return torch.einsum("v,nvc->nc", layer.J_regressor[0], shaped)

    @torch.inference_mode()
    def predict(
        self, images: Sequence[np.ndarray], people: Sequence[PersonRequest], camera: PinholeCamera
    ) -> list[PersonEstimate | None]:
        """images: (H, W, 3) uint8 RGB; one estimate per person, None when their pose gives no usable box."""
        crops, owners = self._crops(images, people)
        results: list[PersonEstimate | None] = [None] * len(people)
        if not crops:
            return results
        raw = self._run_network(crops)
        bbox = torch.from_numpy(np.stack([c.bbox for c in crops])).to(self.device, torch.float32)
        crop_t = crop_translation(raw.cam_param)
        pelvis_rest = self._rest_pelvis(raw.betas)
        focal = torch.tensor([people[o].focal_px or camera.focal_px for o in owners], device=self.device)
        pelvis_full = crop_to_full_translation(crop_t, pelvis_rest, bbox, camera, focal) + pelvis_rest
        pose = torch.cat([raw.global_orient[:, None], raw.body_pose], dim=1)  # (C, 24, 3)
        rois = self.rois
        count = len(crops) // rois  # crops are grouped: rois consecutive crops per person
        if rois > 1:
            fused = fuse_rois(
                axis_angle_to_matrix(pose).view(count, rois, 24, 3, 3),
                raw.betas.view(count, rois, -1),
                pelvis_full.view(count, rois, 3),
            )
            pose, betas, pelvis, spread = matrix_to_axis_angle(fused.rotations), fused.betas, fused.pelvis, fused.spread
        else:
            betas, pelvis, spread = raw.betas, pelvis_full, torch.zeros(count, device=self.device)
        transl = pelvis - self._rest_pelvis(betas)
        joints = self.body(betas, pose[:, 0], pose[:, 1:], transl).joints
        first = slice(0, len(crops), rois)  # the original box of each person
        as_np = lambda t: t.detach().float().cpu().numpy()  # noqa: E731
        values = [as_np(t) for t in (pose, betas, transl, joints, bbox[first], crop_t[first], raw.joint_score[first])]
        spreads = as_np(spread)
        for slot, owner in enumerate(owners[first]):
            p, b, t, j, box, ct, score = (v[slot] for v in values)
            results[owner] = PersonEstimate(
                global_orient=p[0], body_pose=p[1:], betas=b, transl=t, joints=j, bbox=box.astype(np.float64),
                crop_transl=ct, joint_score=score[:, 0], camera_spread=float(spreads[slot]),
            )  # fmt: skip
        return results
