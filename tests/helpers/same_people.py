"""The same people in two captures of one footage, found by their 2D keypoints, and how far apart their
3D paths are: how captures made differently (another camera, segments) are compared with a reference."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.result.schema import CapturedPerson

# (person, their frames shared with a candidate, the rows of those frames) -> (F, 17, 2) keypoints as the
# candidates' footage shows them; by default the person's own (both captures saw the same images).
Seen = Callable[[CapturedPerson, np.ndarray, np.ndarray], np.ndarray]
MATCH_PX = 5.0  # median keypoint distance of the same detections
MIN_SHARED_FRAMES = 5


def pelvis(person: CapturedPerson) -> np.ndarray:
    """(T, 3) the person's pelvis in the capture's world."""
    return forward_kinematics(person.rest_joints, person.global_orient, person.body_pose, person.transl).joints[:, 0]


def _own(person: CapturedPerson, frames: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return person.keypoints2d[rows, :, :2]


def pelvis_gaps(people: Sequence[CapturedPerson], candidates: Sequence[CapturedPerson], *,
                seen: Seen = _own) -> list[np.ndarray | None]:  # fmt: skip
    """Per person, metres between their pelvis and their match's on every shared frame; None when unmatched.

    A match shares at least MIN_SHARED_FRAMES frames with them and shows their keypoints within MATCH_PX
    (median); of several, the one sharing the most frames.
    """
    gaps: list[np.ndarray | None] = []
    for person in people:
        best = None
        for other in candidates:
            common, mine, theirs = np.intersect1d(person.frames, other.frames, return_indices=True)
            if len(common) < MIN_SHARED_FRAMES:
                continue
            apart = np.linalg.norm(seen(person, common, mine) - other.keypoints2d[theirs, :, :2], axis=-1)
            if np.median(apart) < MATCH_PX and (best is None or len(common) > len(best[1])):
                best = (other, mine, theirs)
        if best is None:
            gaps.append(None)
            continue
        other, mine, theirs = best
        gaps.append(np.linalg.norm(pelvis(person)[mine] - pelvis(other)[theirs], axis=1))
    return gaps
