"""Build a CrowdMocap result as a Blender scene: the one worker the operator and the headless CLI call.

One collection per capture holds an armature per person (``street_Person_007``), its body mesh, one action
per person, and the camera. The import is all-or-nothing: a failure removes everything it made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import bpy

from ..core.body.smpl_file import load_smpl_model
from ..core.body.standin import load_standin_body
from ..core.plausibility import implausible_frames
from ..core.result.reader import read_result
from ..core.result.schema import CaptureResult
from ..core.world import world_transform
from ..people.motion import summarise
from . import keyframes
from .animation_bpy import animate, animate_person
from .armature_bpy import build_bones, create_armature_objects
from .axes import armature_frame, camera_matrix_world
from .body_mesh import BodySource, SmplBodies, StandinBodies
from .camera_bpy import apply_render_settings, attach_footage, create_camera
from .camera_keys import MEASURED_PROPERTY, camera_object_channels, lens_channel
from .camera_math import blender_camera_params, deepest_pelvis
from .colours import person_colour
from .footage import find_footage
from .mesh_bpy import BodyBuilder, paint
from .names import action_name, appearance_numbers, camera_name, capture_label, collection_name, names_of_capture
from .record import CAPTURE_FOOTAGE, CAPTURE_LABEL, CAPTURE_RESULT, store_summary
from .timeline import scene_fps, scene_frame_range
from .transaction_bpy import CreatedData, leave_edit_modes, transaction

Report = Callable[[str, str], None]  # (level "INFO" | "WARNING", message)
SKELETON_MISMATCH_M = 0.005
_PROPERTY_DESCRIPTIONS = {  # name: (description, largest value)
    keyframes.CONFIDENCE_PROPERTY: ("CrowdMocap confidence of this frame; 0 marks a frame filled in, not observed", 1),
    keyframes.CONTACT_LEFT_PROPERTY: ("CrowdMocap probability that the left foot touches the ground", 1),
    keyframes.CONTACT_RIGHT_PROPERTY: ("CrowdMocap probability that the right foot touches the ground", 1),
    keyframes.QUALITY_PROPERTY: ("CrowdMocap quality of this frame: 0 observed, 1 filled in by the motion model "
                                 "(not seen), 2 repaired (moved far from what was seen)", 2),
    keyframes.IMPLAUSIBLE_PROPERTY: ("CrowdMocap: 1 where the body sinks into the floor, floats above it or moves "
                                     "faster than a person can", 1),
}  # fmt: skip


@dataclass(kw_only=True)
class ImportedCapture:
    """What one import made."""

    collection: bpy.types.Collection
    camera: bpy.types.Object
    armatures: list[bpy.types.Object] = field(default_factory=list)
    bodies: list[bpy.types.Object] = field(default_factory=list)
    actions: list[bpy.types.Action] = field(default_factory=list)
    footage: bpy.types.MovieClip | None = None
    body_kind: str = "standin"
    label: str = ""


def _ignore(level: str, message: str) -> None:
    del level, message


def load_bodies(smpl_model_path: str | Path | None, gender: str) -> BodySource:
    """The user's SMPL model when a path is given (SmplModelError if it is bad), else the stand-in body."""
    if smpl_model_path:
        return SmplBodies(load_smpl_model(smpl_model_path, gender))
    return StandinBodies(load_standin_body())


def _warn_mismatch(bodies: BodySource, result: CaptureResult, report: Report) -> None:
    if not isinstance(bodies, SmplBodies):
        return
    worst = max((bodies.joint_mismatch(track) for track in result.people), default=0.0)
    if worst > SKELETON_MISMATCH_M:
        report(
            "WARNING",
            f"the SMPL model's joints differ from the result's rest skeletons by up to {worst * 100:.1f} cm "
            f"(result body model: {result.body_model.kind}, {result.body_model.gender}); "
            "the meshes were bound to the result's skeletons",
        )


def capture_labels() -> set[str]:
    """The labels of the captures already in this file."""
    return {str(c[CAPTURE_LABEL]) for c in bpy.data.collections if CAPTURE_LABEL in c}


def _free_label(stem: str, numbers: list[int]) -> str:
    """A label none of whose names is taken yet, by a capture or by anything else the user made."""
    taken = capture_labels()
    while True:
        label = capture_label(stem, taken)
        if not any(bpy.data.objects.get(n) or bpy.data.collections.get(n) for n in names_of_capture(label, numbers)):
            return label
        taken.add(label)


def _locate_footage(result: CaptureResult, result_path: Path, chosen: Path | None, report: Report) -> Path | None:
    if chosen is not None:
        if chosen.is_file():
            return chosen.resolve()
        report("WARNING", f"the footage {chosen} does not exist: looking for {result.video.path!r} instead")
    return find_footage(result.video.path, result_path)


def _populate(
    context: bpy.types.Context,
    result: CaptureResult,
    result_path: Path,
    *,
    label: str,
    bodies: BodySource,
    align_to_ground: bool,
    footage: Path | None,
    created: CreatedData,
    report: Report,
) -> ImportedCapture:
    scene = context.scene
    people = result.people
    numbers = appearance_numbers([int(t.frames[0]) for t in people], [int(t.id) for t in people])
    label = _free_label(label, numbers)
    collection = created.add(bpy.data.collections.new(collection_name(label)))
    scene.collection.children.link(collection)
    collection[CAPTURE_LABEL] = label
    collection[CAPTURE_RESULT] = str(result_path)
    transform = world_transform(result.ground, align_to_ground)
    if align_to_ground and result.ground is None:
        report("INFO", "the result has no ground plane: the camera stays at the origin")
    params = blender_camera_params(result.camera, result.video, deepest_pelvis(result))
    camera = create_camera(camera_name(label), params, camera_matrix_world(transform), collection, created)
    turns = result.camera_motion
    if turns is not None:  # the footage's camera turned or zoomed: so does this one
        camera.rotation_mode = "QUATERNION"
        camera[MEASURED_PROPERTY] = 1.0
        camera.id_properties_ui(MEASURED_PROPERTY).update(
            min=0.0, max=1.0, description="1 where the footage's camera was measured, 0 where it was bridged"
        )
        targets = [(camera, camera_object_channels(turns, transform)), (camera.data, [lens_channel(turns, params)])]
        animate(action_name(camera.name), targets, created)
    capture = ImportedCapture(collection=collection, camera=camera, body_kind=bodies.kind, label=label)
    capture.armatures = create_armature_objects(people, numbers, label, collection, created)
    build_bones(context, capture.armatures, people)
    to_armature = armature_frame(transform)
    body_builder = BodyBuilder(bodies, created)
    for track, armature, number in zip(people, capture.armatures, numbers, strict=True):
        body = body_builder.build(track, armature)
        paint(armature, body, person_colour(number), created)
        capture.bodies.append(body)
        for name, (description, largest) in _PROPERTY_DESCRIPTIONS.items():
            armature[name] = 0.0
            armature.id_properties_ui(name).update(min=0.0, max=float(largest), description=description)
        motion = keyframes.person_motion(track, to_armature, implausible_frames(track, result))
        store_summary(armature, summarise(motion))
        capture.actions.append(animate_person(armature, body, motion, created))
    footage = _locate_footage(result, result_path, footage, report)
    collection[CAPTURE_FOOTAGE] = "" if footage is None else str(footage)
    if footage is None:
        report("INFO", f"footage {result.video.path!r} not found: the camera has no background")
    else:
        capture.footage = attach_footage(camera, footage, created)
        if capture.footage is None:
            report("WARNING", f"Blender cannot read the footage {footage}: the camera has no background")
    apply_render_settings(scene, params, scene_fps(result.video.fps_rational), scene_frame_range(result))
    scene.camera = camera
    return capture


def import_result(
    context: bpy.types.Context,
    result_path: str | Path,
    *,
    smpl_model_path: str | Path | None = None,
    align_to_ground: bool = True,
    label: str | None = None,
    footage: str | Path | None = None,
    report: Report = _ignore,
) -> ImportedCapture:
    """Read, check and build a result file into ``context.scene``.

    ``label`` names the capture (default: the result's file name), made unique in the file. ``footage`` is
    the video behind the camera: the file the user captured, which the result's ``video.path`` (the
    server's copy of the upload) is not; without it, or when it is gone, that path is looked for.

    Raises ResultFormatError (bad result) or SmplModelError (bad SMPL file) before touching the scene;
    any later failure removes everything the import made and restores the scene settings.
    """
    path = Path(result_path)
    result = read_result(path)
    bodies = load_bodies(smpl_model_path, result.body_model.gender)
    _warn_mismatch(bodies, result, report)
    leave_edit_modes(context)
    with transaction(context) as created:
        capture = _populate(
            context,
            result,
            path,
            label=label or path.stem,
            bodies=bodies,
            align_to_ground=align_to_ground,
            footage=None if footage is None else Path(footage),
            created=created,
            report=report,
        )
    context.scene.frame_current = context.scene.frame_start  # no frame_set: the viewport evaluates when it draws
    return capture
