"""Every person's clean-up, in order: smoothing, the floor under everyone, feet on it, front/back flips
mirrored back, foot contacts and locked feet; the result file's people come out.

With ``temporal_fit`` the chain's output is only the start: every person's whole motion is then fitted
at once against the evidence and the physics (``temporal_fit/``), and foot locking then holds
the fit's own contacts exactly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.joints import COCO_ANKLES
from crowdmocap_addon.core.result.schema import CapturedPerson, GroundPlane, PinholeCamera

from ..estimators.person_motion import PersonMotion
from ..pipeline.progress import CancelToken, StageMeter
from .contacts import foot_contact
from .facing import flipped_frames, unflip
from .feet_on_floor import ground_person
from .floor import CAMERA_UP, fit_ground, lowest_foot_points
from .foot_lock import lock_feet
from .smoothing import SmoothedMotion, smooth_motion


@dataclass(kw_only=True, frozen=True)
class MotionSettings:
    fps: float  # processed frames per second (video rate / stride)
    smoothing: float
    foot_lock: bool
    ground_feet: bool = True
    fix_facing: bool = True
    temporal_fit: bool = True
    fit_smoothness: float = 1.0  # strength of the fit's motion prior
    fit_top_speed: float = 4.0  # m/s, the fastest the fit lets a pelvis move
    device: str = "auto"  # where the fit runs: auto (CUDA when there is one), cpu, cuda, cuda:N


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
) -> tuple[list[CapturedPerson], GroundPlane | None]:
    """Smooth each person, fit the floor under everyone, stand them on it, mirror front/back flips, then
    contacts and foot locking."""
    smoothed = []
    for person in people:
        cancel.check()
        smoothed.append(_smooth(person, settings))
    fit = fit_ground(np.concatenate([lowest_foot_points(j) for _, j in smoothed])) if smoothed else None
    ground = fit.plane if fit is not None else None
    up = np.asarray(ground.normal) if ground is not None else CAMERA_UP
    result, estimates = [], []  # estimates: each person as the estimator gave them, flips mirrored back
    for person, (motion, joints) in zip(people, smoothed, strict=True):
        cancel.check()
        transl, person_joints = _stand(person, motion, joints, settings, camera=camera, ground=ground)
        if settings.fix_facing:
            flipped = flipped_frames(motion.global_orient, transl, person.confidence, up, settings.fps)
            if flipped.any():
                person = unflip(person, flipped)  # noqa: PLW2901 - from here on, the corrected person
                motion, joints = _smooth(person, settings)  # noqa: PLW2901
                transl, person_joints = _stand(person, motion, joints, settings, camera=camera, ground=ground)
        estimates.append(person)
        track = person.track
        contact = foot_contact(person_joints, settings.fps, ground, ankle_keypoints=track.keypoints[:, COCO_ANKLES],
                               focal_px=camera.focal_px)  # fmt: skip
        body_pose = motion.body_pose
        if settings.foot_lock and not settings.temporal_fit and len(track.frames) > 2:
            body_pose = lock_feet(person.rest_joints, motion.global_orient, body_pose, transl, contact,
                                  fps=settings.fps, up=up).body_pose  # fmt: skip
        result.append(CapturedPerson(
            id=int(track.id), frames=track.frames.astype(np.int64), global_orient=motion.global_orient,
            body_pose=body_pose, betas=person.betas, transl=transl, rest_joints=person.rest_joints,
            keypoints2d=track.keypoints, bbox=track.boxes, confidence=np.clip(person.confidence, 0.0, 1.0),
            foot_contact=np.clip(contact, 0.0, 1.0),
        ))  # fmt: skip
        meter.advance()
    if settings.temporal_fit and result:
        from ..devices import resolve_device  # torch: imported only when fitting
        from .temporal_fit.fit import FitSettings
        from .temporal_fit.people import fit_captured

        cancel.check()
        fit = FitSettings(smoothness=settings.fit_smoothness, max_root_speed=settings.fit_top_speed,
                          device=str(resolve_device(settings.device)))  # fmt: skip
        result, ground = fit_captured(result, estimates, camera, ground, fps=settings.fps, settings=fit,
                                      check=cancel.check)  # fmt: skip
        if settings.foot_lock:  # the fit's contacts, held exactly (the fit leaves planted feet a little loose)
            up = np.asarray(ground.normal) if ground is not None else CAMERA_UP
            result = [_locked(p, settings.fps, up) for p in result]
    return result, ground


def _locked(person: CapturedPerson, fps: float, up: np.ndarray) -> CapturedPerson:
    if person.num_frames <= 2:
        return person
    locked = lock_feet(person.rest_joints, person.global_orient, person.body_pose, person.transl,
                       person.foot_contact, fps=fps, up=up)  # fmt: skip
    return replace(person, body_pose=locked.body_pose)
