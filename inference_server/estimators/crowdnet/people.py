"""3DCrowdNet's per-detection answers assembled per track: one shape per person, gaps interpolated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from crowdmocap_addon.core.body.smpl_file import SmplModelData
from crowdmocap_addon.core.geometry import interpolate_rotations

from ...motion.shape import robust_betas
from ...pipeline.progress import CancelToken, StageMeter
from ...tracking.tracker import Track
from ..person_motion import PersonMotion
from .batcher import EstimateKey, FrameEstimate, track_estimates


def crowdnet_people(
    tracks: Sequence[Track],
    estimates: Mapping[EstimateKey, FrameEstimate],
    smpl: SmplModelData,
    meter: StageMeter,
    cancel: CancelToken,
) -> tuple[list[PersonMotion], list[str]]:
    """Assemble each track from 3DCrowdNet's per-detection answers; one shape per person, gaps interpolated."""
    people, warnings = [], []
    for track in tracks:
        cancel.check()
        answers = track_estimates(estimates, track)
        known = np.array([a is not None for a in answers])
        meter.advance()
        if not known.any():
            warnings.append(f"person {track.id}: 3DCrowdNet gave no estimate (no usable box); left out")
            continue
        pick = [a for a in answers if a is not None]
        confidence = np.where(known, track.scores, 0.0)
        betas = robust_betas(np.stack([a.betas for a in pick]), confidence[known])
        rest = smpl.rest_joints(betas)
        rotations = np.zeros((len(answers), 24, 3))
        rotations[known] = np.stack([np.concatenate([a.global_orient[None], a.body_pose]) for a in pick])
        rotations = interpolate_rotations(rotations, known)
        pelvis = np.stack([a.pelvis for a in pick])
        steps = np.arange(len(answers))
        pelvis = np.stack([np.interp(steps, np.flatnonzero(known), pelvis[:, c]) for c in range(3)], axis=1)
        people.append(PersonMotion(track=track, global_orient=rotations[:, 0], body_pose=rotations[:, 1:],
                                   transl=pelvis - rest[0], betas=betas, rest_joints=rest,
                                   confidence=confidence))  # fmt: skip
    return people, warnings
