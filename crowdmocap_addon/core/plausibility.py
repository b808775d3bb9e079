"""Is a captured motion physically plausible? Checks on a result that need no ground truth.

A person standing in a street does not sink into it, hover above it, cross two metres in a tenth of a
second or slide a planted foot. Each check below is measured in the floor frame (``core.world``: floor at
Z = 0, +Z up) from the result alone, by forward kinematics of the SMPL parameters, so any result can be
scored: the server's, a cleaned one, a file from someone else's pipeline.

- **sink / float**: the lowest foot joint (ankles, toes) more than ``sink_m`` under the floor, or more
  than ``float_m`` above it (a jump is counted as floating: rare in crowd footage);
- **teleport**: the pelvis moving faster than ``max_pelvis_speed`` since the previous frame;
- **implausible**: a person-frame with any of the three;
- **RMS joint acceleration** per person (all joints, second differences in time): jitter and jumps;
- **foot skate**: horizontal speed of a foot joint while its ``foot_contact`` says it is planted;
- **stance share**: the share of foot-frames in contact (a walker's foot is down ~60 % of the time);
- **reprojection**: pixels between the observed 2D keypoints and the SMPL joints they stand for, projected
  through the result's camera (the fit to the evidence that plausibility must not cost).

Sink and float need the result's floor; without one they are reported as unknown (None). Pure NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .body.skeleton import forward_kinematics
from .joints import SMPL_FEET, SMPL_TO_COCO
from .result.schema import CapturedPerson, CaptureResult
from .world import world_transform

PELVIS = 0
_FOOT_JOINTS = [joint for foot in SMPL_FEET for joint in foot]


@dataclass(frozen=True, kw_only=True)
class PlausibilityLimits:
    sink_m: float = 0.05  # lowest foot joint this far under the floor is sinking
    float_m: float = 0.25  # ... this far above it is floating
    max_pelvis_speed: float = 4.0  # m/s: faster than a running adult in a crowd
    contact: float = 0.5  # foot_contact above this is a planted foot
    min_keypoint_confidence: float = 0.3  # keypoints below this are not evidence for the reprojection error


@dataclass(frozen=True, kw_only=True)
class PersonPlausibility:
    """One person's figures; fractions are of their frames, None where not measurable."""

    id: int
    frames: int
    sinking: float | None
    floating: float | None
    teleporting: float
    implausible: float
    peak_pelvis_speed: float  # m/s
    rms_acceleration: float | None  # m/s², None under 3 frames
    foot_skate: float | None  # m/s, mean over planted foot-frames; None without any
    stance_share: float
    reprojection_px: float | None  # median over observed keypoints; None without any


@dataclass(frozen=True, kw_only=True)
class Plausibility:
    """The whole result's figures (fractions of all person-frames) and each person's."""

    people: list[PersonPlausibility]
    person_frames: int
    has_floor: bool
    sinking: float | None
    floating: float | None
    teleporting: float
    implausible: float
    peak_pelvis_speed: float
    median_rms_acceleration: float | None
    foot_skate: float | None
    stance_share: float
    reprojection_px: float | None


@dataclass(frozen=True)
class _Samples:
    """What one person contributes to the totals (kept per sample, so totals weigh frames, not people)."""

    flags: dict[str, np.ndarray]  # "sink", "float", "teleport", "implausible" -> (T,) bool
    skate: np.ndarray  # (n,) m/s of planted feet
    contacts: np.ndarray  # (T, 2) bool
    reprojection: np.ndarray  # (m,) pixels


def _velocities(points: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(T, ..., 3) positions at (T,) seconds -> (T - 1, ..., 3) velocities between consecutive frames."""
    steps = np.diff(times).reshape(-1, *([1] * (points.ndim - 1)))
    return np.diff(points, axis=0) / steps


def _person(
    person: CapturedPerson, result: CaptureResult, limits: PlausibilityLimits
) -> tuple[PersonPlausibility, _Samples]:
    camera_joints = forward_kinematics(person.rest_joints, person.global_orient, person.body_pose, person.transl).joints
    joints = world_transform(result.ground).apply(camera_joints)  # (T, 24, 3), floor at Z = 0 when known
    times = np.asarray(person.frames, np.float64) / result.video.fps
    count = person.num_frames
    lowest = joints[:, _FOOT_JOINTS, 2].min(axis=1)
    floor = result.ground is not None
    sink = lowest < -limits.sink_m if floor else np.zeros(count, bool)
    hover = lowest > limits.float_m if floor else np.zeros(count, bool)
    pelvis_speed = np.zeros(count)
    if count > 1:
        pelvis_speed[1:] = np.linalg.norm(_velocities(joints[:, PELVIS], times), axis=1)
    teleport = pelvis_speed > limits.max_pelvis_speed
    implausible = sink | hover | teleport
    rms = None
    if count > 2:
        velocity = _velocities(joints, times)
        acceleration = _velocities(velocity, (times[1:] + times[:-1]) / 2)
        rms = float(np.sqrt(np.mean(np.sum(acceleration**2, axis=-1))))
    contacts = np.asarray(person.foot_contact) > limits.contact
    skate = []
    if count > 1:
        for side, (ankle, toes) in enumerate(SMPL_FEET):
            planted = contacts[1:, side] & contacts[:-1, side]
            horizontal = _velocities(joints[:, [ankle, toes], :2], times)  # (T - 1, 2, 2)
            skate.append(np.linalg.norm(horizontal, axis=-1).mean(axis=1)[planted])
    skate_samples = np.concatenate(skate) if skate else np.zeros(0)
    reprojection = _reprojection(person, camera_joints, result, limits)
    figures = PersonPlausibility(
        id=int(person.id),
        frames=count,
        sinking=float(sink.mean()) if floor else None,
        floating=float(hover.mean()) if floor else None,
        teleporting=float(teleport.mean()),
        implausible=float(implausible.mean()),
        peak_pelvis_speed=float(pelvis_speed.max()),
        rms_acceleration=rms,
        foot_skate=float(skate_samples.mean()) if len(skate_samples) else None,
        stance_share=float(contacts.mean()),
        reprojection_px=float(np.median(reprojection)) if len(reprojection) else None,
    )
    flags = {"sink": sink, "float": hover, "teleport": teleport, "implausible": implausible}
    return figures, _Samples(flags, skate_samples, contacts, reprojection)


def _reprojection(person: CapturedPerson, joints: np.ndarray, result: CaptureResult,
                  limits: PlausibilityLimits) -> np.ndarray:  # fmt: skip
    """Pixels between each observed keypoint and its SMPL joint projected through the camera."""
    smpl, coco = list(SMPL_TO_COCO), list(SMPL_TO_COCO.values())
    keypoints = np.asarray(person.keypoints2d)[:, coco]  # (T, 12, 3)
    observed = (keypoints[..., 2] >= limits.min_keypoint_confidence) & (np.asarray(person.confidence)[:, None] > 0)
    points, motion = joints[:, smpl], result.camera_motion
    if motion is None:
        seen, focal = points, np.full(len(points), result.camera.focal_px)
    else:  # a moving camera: each frame's keypoints are that frame's camera's view of the world
        seen, focal = motion.in_cameras(person.frames, points), np.asarray(motion.focal_px)[motion.slots(person.frames)]
    in_front = seen[..., 2] > 1e-6
    depth = np.where(in_front, seen[..., 2], 1.0)[..., None]
    projected = seen[..., :2] / depth * focal[:, None, None] + np.asarray(result.camera.principal_point)
    distance = np.linalg.norm(projected - keypoints[..., :2], axis=-1)
    return distance[observed & in_front]


def implausible_frames(person: CapturedPerson, result: CaptureResult,
                       limits: PlausibilityLimits | None = None) -> np.ndarray:  # fmt: skip
    """(T,) bool: the person's frames that sink, float or teleport (what the Blender import flags)."""
    return _person(person, result, limits or PlausibilityLimits())[1].flags["implausible"]


def assess(result: CaptureResult, limits: PlausibilityLimits | None = None) -> Plausibility:
    """Every person's plausibility figures and the result's totals over all person-frames."""
    limits = limits or PlausibilityLimits()
    scored = [_person(person, result, limits) for person in result.people]
    people = [figures for figures, _ in scored]
    samples = [s for _, s in scored]
    total = sum(p.frames for p in people)
    floor = result.ground is not None

    def share(name: str) -> float:
        return float(sum(int(s.flags[name].sum()) for s in samples) / total) if total else 0.0

    skate = np.concatenate([s.skate for s in samples]) if samples else np.zeros(0)
    reprojection = np.concatenate([s.reprojection for s in samples]) if samples else np.zeros(0)
    rms = [p.rms_acceleration for p in people if p.rms_acceleration is not None]
    contacts = sum(int(s.contacts.sum()) for s in samples)
    return Plausibility(
        people=people,
        person_frames=total,
        has_floor=floor,
        sinking=share("sink") if floor else None,
        floating=share("float") if floor else None,
        teleporting=share("teleport"),
        implausible=share("implausible"),
        peak_pelvis_speed=max((p.peak_pelvis_speed for p in people), default=0.0),
        median_rms_acceleration=float(np.median(rms)) if rms else None,
        foot_skate=float(skate.mean()) if len(skate) else None,
        stance_share=contacts / (2 * total) if total else 0.0,
        reprojection_px=float(np.median(reprojection)) if len(reprojection) else None,
    )


def _percent(value: float | None) -> str:
    return "unknown (no floor)" if value is None else f"{100 * value:.1f} %"


def _value(value: float | None, unit: str, scale: float = 1.0, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * scale:.{digits}f} {unit}"


def format_report(report: Plausibility, limits: PlausibilityLimits | None = None) -> str:
    """The figures as a short text an animator or a pipeline TD can read (``crowdmocap-server info --quality``)."""
    limits = limits or PlausibilityLimits()
    lines = [
        f"motion plausibility: {len(report.people)} people, {report.person_frames} person-frames"
        + ("" if report.has_floor else " (no floor in the result: sink and float unknown)"),
        f"  implausible person-frames   {_percent(report.implausible)}",
        f"    sinking (> {100 * limits.sink_m:.0f} cm under the floor)   {_percent(report.sinking)}",
        f"    floating (> {100 * limits.float_m:.0f} cm above it)      {_percent(report.floating)}",
        f"    pelvis faster than {limits.max_pelvis_speed:g} m/s     {_percent(report.teleporting)}",
        f"  peak pelvis speed           {_value(report.peak_pelvis_speed, 'm/s')}",
        f"  median RMS joint acceleration {_value(report.median_rms_acceleration, 'm/s²')}",
        f"  foot skate during contacts  {_value(report.foot_skate, 'cm/s', 100)}",
        f"  stance share                {_percent(report.stance_share)} of foot-frames",
        f"  reprojection (median)       {_value(report.reprojection_px, 'px')}",
    ]
    return "\n".join(lines)
