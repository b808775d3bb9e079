"""From tracks to clean per-person SMPL motion: 3D per track, one shape, smoothing, floor, contacts, locked feet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.body.smpl_file import SmplModelData
from crowdmocap_addon.core.geometry import interpolate_rotations
from crowdmocap_addon.core.joints import COCO_ANKLES, COCO_MIRROR
from crowdmocap_addon.core.legs import true_runs
from crowdmocap_addon.core.result.schema import GroundPlane, PersonTrack, PinholeCamera

from ..motion.contacts import foot_contact
from ..motion.facing import flipped_frames, mirror_pose
from ..motion.foot_lock import lock_feet
from ..motion.from_track import MissingLandmarksError, lift_track, rest_skeleton
from ..motion.ground import CAMERA_UP, fit_ground, lowest_foot_points
from ..motion.grounding import ground_person
from ..motion.shape import robust_betas
from ..motion.smoothing import SmoothedMotion, smooth_motion
from ..tracking.tracker import Track
from .progress import CancelToken, PipelineError, StageMeter
from .stream import EstimateKey, FrameEstimate, track_estimates


@dataclass(kw_only=True, frozen=True)
class PersonMotion:
    """One track's 3D motion in the full-image camera, before clean-up."""

    track: Track
    global_orient: np.ndarray  # (T, 3)
    body_pose: np.ndarray  # (T, 23, 3)
    transl: np.ndarray  # (T, 3)
    betas: np.ndarray  # (10,)
    rest_joints: np.ndarray  # (24, 3)
    confidence: np.ndarray  # (T,) 0 where filled in


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


@dataclass(kw_only=True, frozen=True)
class MotionSettings:
    fps: float  # processed frames per second (video rate / stride)
    smoothing: float
    foot_lock: bool
    ground_feet: bool = True
    fix_facing: bool = True


def _refill_runs_beside(flipped: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """(T,) bool: the runs of filled-in frames that touch a flipped frame (their guesses mix both facings)."""
    out = np.zeros_like(filled)
    for first, last in true_runs(filled):
        if flipped[max(first - 1, 0)] or flipped[min(last + 1, len(flipped) - 1)]:
            out[first : last + 1] = True
    return out


def unflip(person: PersonMotion, flipped: np.ndarray) -> PersonMotion:
    """The person with ``flipped`` frames mirrored back (keypoint labels too) and the gaps beside them refilled."""
    orient, pose, transl = person.global_orient.copy(), person.body_pose.copy(), person.transl.copy()
    orient[flipped], pose[flipped], transl[flipped] = mirror_pose(orient[flipped], pose[flipped], transl[flipped],
                                                                  person.rest_joints)  # fmt: skip
    refill = _refill_runs_beside(flipped, person.confidence <= 0)
    if refill.any() and (~refill).any():
        rotations = interpolate_rotations(np.concatenate([orient[:, None], pose], axis=1), ~refill)
        orient, pose = rotations[:, 0], rotations[:, 1:]
    keypoints = person.track.keypoints.copy()
    keypoints[flipped] = keypoints[flipped][:, COCO_MIRROR]
    return replace(person, track=replace(person.track, keypoints=keypoints), global_orient=orient, body_pose=pose,
                   transl=transl)  # fmt: skip


def _smooth(person: PersonMotion, settings: MotionSettings) -> tuple[SmoothedMotion, np.ndarray]:
    """The person's smoothed motion and its posed (T, 24, 3) joints."""
    motion = smooth_motion(person.global_orient, person.body_pose, person.transl, person.confidence,
                           fps=settings.fps, strength=settings.smoothing)  # fmt: skip
    return motion, forward_kinematics(person.rest_joints, motion.global_orient, motion.body_pose, motion.transl).joints


def _stand(person: PersonMotion, motion: SmoothedMotion, joints: np.ndarray, settings: MotionSettings, *,
           camera: PinholeCamera, ground: GroundPlane | None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """With a floor (and grounding on), the root translation and joints that stand the person on it."""
    if ground is None or not settings.ground_feet:
        return motion.transl, joints
    grounded = ground_person(joints, motion.transl, person.track.keypoints[:, COCO_ANKLES], person.confidence,
                             camera=camera, ground=ground, fps=settings.fps)  # fmt: skip
    return grounded.transl, joints + grounded.shift[:, None]


def finish_people(
    people: Sequence[PersonMotion],
    camera: PinholeCamera,
    settings: MotionSettings,
    meter: StageMeter,
    cancel: CancelToken,
) -> tuple[list[PersonTrack], GroundPlane | None]:
    """Smooth each person, fit the floor under everyone, stand them on it, mirror front/back flips, then
    contacts and foot locking."""
    smoothed = []
    for person in people:
        cancel.check()
        smoothed.append(_smooth(person, settings))
    fit = fit_ground(np.concatenate([lowest_foot_points(j) for _, j in smoothed])) if smoothed else None
    ground = fit.plane if fit is not None else None
    up = np.asarray(ground.normal) if ground is not None else CAMERA_UP
    result = []
    for person, (motion, joints) in zip(people, smoothed, strict=True):
        cancel.check()
        transl, person_joints = _stand(person, motion, joints, settings, camera=camera, ground=ground)
        if settings.fix_facing:
            flipped = flipped_frames(motion.global_orient, transl, person.confidence, up, settings.fps)
            if flipped.any():
                person = unflip(person, flipped)  # noqa: PLW2901 - from here on, the corrected person
                motion, joints = _smooth(person, settings)  # noqa: PLW2901
                transl, person_joints = _stand(person, motion, joints, settings, camera=camera, ground=ground)
        track = person.track
        contact = foot_contact(person_joints, settings.fps, ground, ankle_keypoints=track.keypoints[:, COCO_ANKLES],
                               focal_px=camera.focal_px)  # fmt: skip
        body_pose = motion.body_pose
        if settings.foot_lock and len(track.frames) > 2:
            body_pose = lock_feet(person.rest_joints, motion.global_orient, body_pose, transl, contact,
                                  fps=settings.fps, up=up).body_pose  # fmt: skip
        result.append(PersonTrack(
            id=int(track.id), frames=track.frames.astype(np.int64), global_orient=motion.global_orient,
            body_pose=body_pose, betas=person.betas, transl=transl, rest_joints=person.rest_joints,
            keypoints2d=track.keypoints, bbox=track.boxes, confidence=np.clip(person.confidence, 0.0, 1.0),
            foot_contact=np.clip(contact, 0.0, 1.0),
        ))  # fmt: skip
        meter.advance()
    return result, ground
