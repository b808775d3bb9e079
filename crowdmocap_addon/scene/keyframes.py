"""Every animation curve of one person as plain arrays, ready for ``keyframe_points.foreach_set``.

Bone convention (docs/blender-scene.md): each bone's rest matrix has identity rotation in armature space,
and armature space is SMPL's rest frame. A pose bone's quaternion is therefore the SMPL local rotation of
its joint, and the pelvis location is ``transl`` re-expressed in armature space (change_frame's transl').
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.body.skeleton import change_frame
from ..core.geometry import axis_angle_to_quaternion, sign_continuous
from ..core.joints import JOINT_NAMES
from ..core.result.schema import CapturedPerson
from ..core.world import WorldTransform
from ..people.motion import PersonMotion
from .timeline import FRAME_OFFSET

CONFIDENCE_PROPERTY = "crowdmocap_confidence"
CONTACT_LEFT_PROPERTY = "crowdmocap_contact_left"
CONTACT_RIGHT_PROPERTY = "crowdmocap_contact_right"
QUALITY_PROPERTY = "crowdmocap_quality"  # the result's per-frame quality code (0 observed, 1 filled, 2 repaired)
IMPLAUSIBLE_PROPERTY = "crowdmocap_implausible"  # 1 where the body sinks, floats or teleports (core.plausibility)
CUSTOM_PROPERTIES = (CONFIDENCE_PROPERTY, CONTACT_LEFT_PROPERTY, CONTACT_RIGHT_PROPERTY, QUALITY_PROPERTY,
                     IMPLAUSIBLE_PROPERTY)  # fmt: skip
CODED_PROPERTIES = (QUALITY_PROPERTY, IMPLAUSIBLE_PROPERTY)  # codes, not measures: keyed constant
VISIBILITY_PATHS = ("hide_viewport", "hide_render")
ROOT_BONE = JOINT_NAMES[0]


@dataclass(kw_only=True, frozen=True)
class Channel:
    """One F-curve: where it points, its keys and how they interpolate."""

    data_path: str
    index: int
    group: str  # Dope Sheet group, the bone name or "" for none
    frames: np.ndarray  # (K,) scene frames, increasing
    values: np.ndarray  # (K,)
    interpolation: str  # "LINEAR" or "CONSTANT"

    def keyframe_co(self) -> np.ndarray:
        """(2K,) float32 interleaved frame, value pairs: the layout of ``keyframe_points`` ``co``."""
        return interleave(self.frames, self.values)


def interleave(frames: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(K,) and (K,) -> (2K,) float32 ``[f0, v0, f1, v1, ...]``."""
    frames = np.asarray(frames, dtype=np.float32)
    values = np.asarray(values, dtype=np.float32)
    if frames.shape != values.shape or frames.ndim != 1:
        raise ValueError(f"frames {frames.shape} and values {values.shape} must be equal 1-D shapes")
    return np.stack([frames, values], axis=1).reshape(-1)


def bone_quaternions(track: CapturedPerson, armature: WorldTransform) -> np.ndarray:
    """(T, 24, 4) sign-continuous pose-bone quaternions; the root's includes the camera -> armature turn."""
    root_orient, _ = change_frame(
        track.rest_joints, track.global_orient, track.transl, armature.rotation, armature.offset
    )
    pose = np.concatenate([root_orient[:, None, :], np.asarray(track.body_pose, dtype=np.float64)], axis=1)
    return sign_continuous(axis_angle_to_quaternion(pose))


def pelvis_locations(track: CapturedPerson, armature: WorldTransform) -> np.ndarray:
    """(T, 3) pelvis pose-bone locations: the posed pelvis minus its rest head, in armature space."""
    _, transl = change_frame(track.rest_joints, track.global_orient, track.transl, armature.rotation, armature.offset)
    return transl


def quote(name: str) -> str:
    """A bone or property name inside an RNA path string: backslashes and double quotes escaped."""
    return name.replace("\\", "\\\\").replace('"', '\\"')


def bone_path(bone: str, prop: str) -> str:
    """The F-curve data path of a pose bone's property."""
    return f'pose.bones["{quote(bone)}"].{prop}'


def curve_channels(data_path: str, group: str, frames: np.ndarray, values: np.ndarray) -> list[Channel]:
    """(T,) frames and (T, C) values -> one linear channel per column of a vector property."""
    return [Channel(data_path=data_path, index=axis, group=group, frames=frames, values=values[:, axis],
                    interpolation="LINEAR") for axis in range(values.shape[1])]  # fmt: skip


def person_motion(
    track: CapturedPerson, armature: WorldTransform, implausible: np.ndarray | None = None
) -> PersonMotion:
    """What the armature of ``track`` keys: bone quaternions, pelvis location and per-frame properties."""
    return PersonMotion(
        frames=np.asarray(track.frames, dtype=np.int64) + FRAME_OFFSET,
        rotations=bone_quaternions(track, armature),
        pelvis=pelvis_locations(track, armature),
        confidence=np.asarray(track.confidence, dtype=np.float64),
        contact=np.asarray(track.foot_contact, dtype=np.float64),
        quality=track.frame_quality,
        implausible=np.zeros(track.num_frames, bool) if implausible is None else np.asarray(implausible, bool),
    )


def motion_channels(motion: PersonMotion) -> list[Channel]:
    """Quaternion curves of all 24 bones and the pelvis location, one key per frame."""
    frames = np.asarray(motion.frames, dtype=np.float64)
    channels = []
    for joint, name in enumerate(JOINT_NAMES):
        channels += curve_channels(bone_path(name, "rotation_quaternion"), name, frames, motion.rotations[:, joint])
    return channels + curve_channels(bone_path(ROOT_BONE, "location"), ROOT_BONE, frames, motion.pelvis)


def property_channels(motion: PersonMotion) -> list[Channel]:
    """Per-frame confidence, left/right foot contact, quality and implausibility as custom-property curves.

    Quality and implausibility are codes, not measures: their keys are constant, so a frame never reads
    as "half repaired".
    """
    frames = np.asarray(motion.frames, dtype=np.float64)
    contact = np.asarray(motion.contact, dtype=np.float64)
    codes = np.asarray(motion.quality, dtype=np.float64), np.asarray(motion.implausible, dtype=np.float64)
    values = (np.asarray(motion.confidence, dtype=np.float64), contact[:, 0], contact[:, 1], *codes)
    return [
        Channel(data_path=f'["{name}"]', index=0, group="CrowdMocap", frames=frames, values=value,
                interpolation="CONSTANT" if name in CODED_PROPERTIES else "LINEAR")
        for name, value in zip(CUSTOM_PROPERTIES, values, strict=True)
    ]  # fmt: skip


def visibility_channels(first: int, last: int) -> list[Channel]:
    """Hidden before scene frame ``first`` and after ``last``, shown in between (constant keys)."""
    frames = np.array([first - 1, first, last + 1], dtype=np.float64)
    hidden = np.array([1.0, 0.0, 1.0])
    return [
        Channel(data_path=path, index=0, group="Visibility", frames=frames, values=hidden, interpolation="CONSTANT")
        for path in VISIBILITY_PATHS
    ]
