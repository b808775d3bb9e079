"""The lift on every track: rest skeleton from the bones, IK per frame, translation from the 2D keypoints."""

from __future__ import annotations

from collections.abc import Sequence

from crowdmocap_addon.core.body.smpl_file import SmplModelData
from crowdmocap_addon.core.result.schema import PinholeCamera

from ...pipeline.progress import CancelToken, PipelineError, StageMeter
from ...tracking.tracker import Track
from ..person_motion import PersonMotion
from .track import MissingLandmarksError, lift_track, rest_skeleton


def lift_people(
    tracks: Sequence[Track], smpl: SmplModelData | None, camera: PinholeCamera, meter: StageMeter, cancel: CancelToken
) -> list[PersonMotion]:
    """The weights-free estimator on every track (BlazePose landmarks -> IK -> translation from 2D)."""
    people = []
    for track in tracks:
        cancel.check()
        try:
            rest = rest_skeleton(track, smpl)
            lifted = lift_track(track, rest.joints, camera)
        except MissingLandmarksError as exc:
            raise PipelineError("estimate", str(exc), int(track.frames[0])) from exc
        people.append(PersonMotion(track=track, global_orient=lifted.global_orient, body_pose=lifted.body_pose,
                                   transl=lifted.transl, betas=rest.betas, rest_joints=rest.joints,
                                   confidence=lifted.confidence))  # fmt: skip
        meter.advance()
    return people
