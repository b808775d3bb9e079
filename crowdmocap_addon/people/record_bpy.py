"""Find a capture's people in the scene and read their motion back out of their actions.

Everything goes by the scene's record (``scene/record.py``): a capture is a collection with a label, a
person an armature with a number and that label. Reading motion back uses the keys themselves where they
sit on the person's frames (every import and every edit keys every frame), Blender's evaluation where an
animator has changed them.
"""

from __future__ import annotations

import bpy
import numpy as np

from ..core.joints import JOINT_NAMES
from ..scene.animation_bpy import curve_keys, curves_by_path, sample_curve
from ..scene.keyframes import (
    CONFIDENCE_PROPERTY,
    CONTACT_LEFT_PROPERTY,
    CONTACT_RIGHT_PROPERTY,
    IMPLAUSIBLE_PROPERTY,
    QUALITY_PROPERTY,
    ROOT_BONE,
    bone_path,
)
from ..scene.record import CAPTURE_LABEL, PERSON_CAPTURE, PERSON_ID, PERSON_NUMBER, store_summary
from .motion import PersonEditError, PersonMotion, summarise


def is_person(obj: bpy.types.ID | None) -> bool:
    return isinstance(obj, bpy.types.Object) and obj.type == "ARMATURE" and PERSON_ID in obj


def is_capture(collection: bpy.types.ID | None) -> bool:
    return isinstance(collection, bpy.types.Collection) and CAPTURE_LABEL in collection


def captures() -> list[bpy.types.Collection]:
    """Every capture in the file, in the order they were imported (their collections' order)."""
    return [collection for collection in bpy.data.collections if is_capture(collection)]


def capture_named(label: str) -> bpy.types.Collection | None:
    return next((c for c in captures() if c[CAPTURE_LABEL] == label), None)


def capture_of(obj: bpy.types.Object | None) -> bpy.types.Collection | None:
    """The capture a person (or their body) belongs to."""
    if obj is not None and obj.type == "MESH" and is_person(obj.parent):
        obj = obj.parent
    if not is_person(obj) or PERSON_CAPTURE not in obj:
        return None
    return capture_named(str(obj[PERSON_CAPTURE]))


def people_of(capture: bpy.types.Collection) -> list[bpy.types.Object]:
    """The capture's people in number order."""
    return sorted((o for o in capture.all_objects if is_person(o)), key=lambda o: (o.get(PERSON_NUMBER, 0), o.name))


def body_of(person: bpy.types.Object) -> bpy.types.Object | None:
    """The body mesh the person's armature deforms (their child with an Armature modifier on them)."""
    for child in person.children:
        if child.type == "MESH" and any(m.type == "ARMATURE" and m.object == person for m in child.modifiers):
            return child
    return None


def _values(curves, path: str, size: int, frames: np.ndarray, default: np.ndarray) -> np.ndarray:
    out = np.tile(np.asarray(default, dtype=np.float64), (len(frames), 1))
    for axis in range(size):
        fcurve = curves.get((path, axis))
        if fcurve is not None and len(fcurve.keyframe_points):
            out[:, axis] = sample_curve(fcurve, frames)
    return out


def read_motion(person: bpy.types.Object) -> PersonMotion:
    """The person's motion on the frames their pelvis is keyed on (PersonEditError if it has none)."""
    curves = curves_by_path(person)
    pelvis_x = curves.get((bone_path(ROOT_BONE, "location"), 0))
    if pelvis_x is None or not len(pelvis_x.keyframe_points):
        raise PersonEditError(f"'{person.name}' has no keyed motion (its pelvis location is not keyed)")
    keyed, _ = curve_keys(pelvis_x)
    frames = np.unique(np.round(keyed)).astype(np.float64)
    rotations = np.stack(
        [_values(curves, bone_path(name, "rotation_quaternion"), 4, frames, np.array([1.0, 0, 0, 0]))
         for name in JOINT_NAMES], axis=1)  # fmt: skip
    rotations /= np.linalg.norm(rotations, axis=-1, keepdims=True)

    def prop(name: str, default: float) -> np.ndarray:
        return _values(curves, f'["{name}"]', 1, frames, np.array([default]))[:, 0]

    return PersonMotion(
        frames=frames.astype(np.int64),
        rotations=rotations,
        pelvis=_values(curves, bone_path(ROOT_BONE, "location"), 3, frames, np.zeros(3)),
        confidence=prop(CONFIDENCE_PROPERTY, 1.0),
        contact=np.stack([prop(CONTACT_LEFT_PROPERTY, 0.0), prop(CONTACT_RIGHT_PROPERTY, 0.0)], axis=1),
        quality=np.clip(np.round(prop(QUALITY_PROPERTY, 0.0)), 0, 255).astype(np.uint8),
        implausible=prop(IMPLAUSIBLE_PROPERTY, 0.0) > 0.5,
    )


def refresh_summary(person: bpy.types.Object) -> None:
    """Re-read the person's motion and store their People-list row (after any edit, or a hand edit)."""
    store_summary(person, summarise(read_motion(person)))


def rest_pelvis(person: bpy.types.Object) -> np.ndarray:
    """(3,) the pelvis bone's rest head in armature space: where the pelvis location is measured from."""
    return np.array(person.data.bones[ROOT_BONE].head_local, dtype=np.float64)
