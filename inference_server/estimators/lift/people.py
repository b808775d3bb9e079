"""The lift on every track: rest skeleton from the bones, IK per frame, translation from the 2D keypoints."""

from __future__ import annotations

from collections.abc import Sequence

from crowdmocap_addon.core.body.smpl_file import SmplModelData
from crowdmocap_addon.core.result.schema import PinholeCamera

from ...camera_motion.world import ClipCamera, track_at_reference_zoom
from ...pipeline.progress import CancelToken, PipelineError, StageMeter
from ...tracking.tracker import Track
from ..person_motion import PersonMotion
from .track import MissingLandmarksError, lift_track, rest_skeleton


def lift_people(
    tracks: Sequence[Track],
    smpl: SmplModelData | None,
    camera: PinholeCamera,
    meter: StageMeter,
    cancel: CancelToken,
    *,
    camera_motion: ClipCamera | None = None,
) -> list[PersonMotion]:
    """The weights-free estimator on every track (BlazePose landmarks -> IK -> translation from 2D).

    With a ``camera_motion`` that zooms, each frame's keypoints are first brought to ``camera``'s focal
    length, so every person is placed in their own frame's camera; the motion keeps the track as seen.
    """
    people = []
    for track in tracks:
        cancel.check()
        seen = track if camera_motion is None else track_at_reference_zoom(track, camera_motion)
        try:
            rest = rest_skeleton(seen, smpl)
            lifted = lift_track(seen, rest.joints, camera)
        except MissingLandmarksError as exc:
            raise PipelineError("estimate", str(exc), int(track.frames[0])) from exc
        people.append(PersonMotion(track=track, global_orient=lifted.global_orient, body_pose=lifted.body_pose,
                                   transl=lifted.transl, betas=rest.betas, rest_joints=rest.joints,
                                   confidence=lifted.confidence))  # fmt: skip
        meter.advance()
    return people
