"""A captured person retargeted onto a Mixamo-named character, rendered beside the source: docs/images/.

    .venv/bin/python scripts/retarget_picture.py DEMO.blend OUT.jpg

Used by ``scripts/docs_pictures.py`` on the demo's .blend. The character is the Mixamo-like test rig
(``mixamorig:`` bone names, T-pose, rolled bones: ``tests/crowdmocap_addon/retarget/rigs.py``) scaled 1.1x,
with the stand-in body bound to it by vertex groups named after its bones, so it deforms like any rigged
game character. The person with the longest track is retargeted by the real worker
(``crowdmocap_addon.retarget.retarget_bpy.retarget``) with foot pinning, then both are rendered at three
moments of the walk and the renders laid side by side.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHARACTER_SCALE = 1.1
SIDE_OFFSET_M = 1.0  # the character walks this far to the right of the person, as the camera sees them
SOURCE_COLOUR = (0.62, 0.64, 0.68, 1.0)
CHARACTER_COLOUR = (0.93, 0.55, 0.18, 1.0)
PANEL_SIZE = (640, 720)


def mixamo_character(bpy):
    """The Mixamo-like rig with the stand-in body skinned to it (groups named after the rig's bones)."""
    import numpy as np

    from crowdmocap_addon.core.body.standin import load_standin_body
    from crowdmocap_addon.core.joints import JOINT_NAMES, PARENTS
    from crowdmocap_addon.scene.axes import SMPL_TO_BLENDER
    from tests.crowdmocap_addon.retarget.rigs import build_armature, mixamo_rig, world_joints

    spec = mixamo_rig()
    rig = build_armature(bpy, spec, name="MixamoCharacter")
    rig.scale = (CHARACTER_SCALE,) * 3
    body = load_standin_body()
    # The rig's joints are the stand-in's, turned Z up and lifted onto the floor: move the mesh the same way.
    lift = world_joints()[0] - SMPL_TO_BLENDER @ body.rest_joints[0]
    vertices = body.vertices.astype(np.float64) @ SMPL_TO_BLENDER.T + lift
    mesh = bpy.data.meshes.new("MixamoCharacter_Body")
    mesh.from_pydata(vertices.tolist(), [], body.faces.tolist())
    mesh.shade_smooth()
    obj = bpy.data.objects.new("MixamoCharacter_Body", mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.parent, obj.color = rig, CHARACTER_COLOUR
    # SMPL joints the preset leaves unmapped (the hand ends) weigh on their nearest mapped ancestor.
    names = spec.bone_map()
    for joint, weights in enumerate(body.dense_weights().T):
        owner = joint
        while JOINT_NAMES[owner] not in names:
            owner = PARENTS[owner]
        bone = names[JOINT_NAMES[owner]]
        group = obj.vertex_groups.get(bone) or obj.vertex_groups.new(name=bone)
        for vertex in np.flatnonzero(weights > 0):
            group.add([int(vertex)], float(weights[vertex]), "ADD")
    obj.modifiers.new("Armature", "ARMATURE").object = rig
    return rig


def longest_person(bpy):
    from crowdmocap_addon.retarget.retarget_bpy import is_crowdmocap_armature
    from crowdmocap_addon.retarget.rig_bpy import source_motion

    people = [o for o in bpy.context.scene.objects if is_crowdmocap_armature(o)]
    return max(people, key=lambda person: len(source_motion(person).frames))


def _look_at(view, target, distance: float, heading, height: float) -> None:
    """Put the camera ``distance`` metres from ``target`` along the floor direction ``heading``, looking at it."""
    location = target + distance * heading
    location[2] = height
    view.location = location.tolist()
    direction = target - location
    view.rotation_euler = (math.atan2(math.hypot(direction[0], direction[1]), -direction[2]), 0.0,
                           math.atan2(direction[1], direction[0]) - math.pi / 2)  # fmt: skip


def render_panels(bpy, person, character, frames, folder: Path) -> list[Path]:
    """One render per frame, framed on the pair, seen from the capture camera's side."""
    import numpy as np

    from scripts.demo import render_still

    scene = bpy.context.scene
    capture_camera = np.array(scene.camera.matrix_world)
    right = capture_camera[:3, 0] * [1.0, 1.0, 0.0]
    right /= np.linalg.norm(right)
    back = capture_camera[:3, 2] * [1.0, 1.0, 0.0]  # a camera looks down its -Z: +Z points back at the viewer
    back /= np.linalg.norm(back)
    character.location = (np.array(character.location) + SIDE_OFFSET_M * right).tolist()
    view = bpy.data.objects.new("PictureView", bpy.data.cameras.new("PictureView"))
    scene.collection.objects.link(view)
    view.data.lens = 45
    scene.camera, scene.render.film_transparent = view, False
    scene.render.resolution_x, scene.render.resolution_y = PANEL_SIZE
    scene.render.resolution_percentage = 100
    panels = []
    for index, frame in enumerate(frames):
        scene.frame_set(frame)
        pelvis = np.array(person.matrix_world @ person.pose.bones["pelvis"].head)
        target = pelvis + 0.5 * SIDE_OFFSET_M * right
        target[2] = 0.95
        _look_at(view, target, 5.0, back, 1.6)
        panels.append(render_still(scene, folder / f"panel_{index}.png"))
    return panels


def stage(bpy, person) -> None:
    """Only the person and the character on a plain floor, under studio light (the file is not saved)."""
    keep = {person, *person.children_recursive}
    keep |= {o for o in bpy.data.objects if o.name.startswith("MixamoCharacter")}
    for obj in [o for o in bpy.context.scene.objects if o.type in {"ARMATURE", "MESH"} and o not in keep]:
        bpy.data.objects.remove(obj)  # other people: their visibility keys would show them again
    for child in person.children:
        child.color = SOURCE_COLOUR
    bpy.ops.mesh.primitive_plane_add(size=60.0, location=(*person.matrix_world.translation[:2], 0.0))
    bpy.context.active_object.color = (0.55, 0.55, 0.52, 1.0)
    scene = bpy.context.scene
    world = scene.world or bpy.data.worlds.new("PictureWorld")
    scene.world, world.color = world, (0.08, 0.09, 0.11)
    shading = scene.display.shading
    shading.light, shading.color_type, shading.show_shadows = "STUDIO", "OBJECT", True


def retarget_picture(blend: Path, out: Path) -> Path:
    """Open ``blend``, retarget its longest-tracked person onto the character, write the three-panel JPEG."""
    import tempfile

    import bpy
    import cv2
    import numpy as np

    from crowdmocap_addon.retarget.retarget_bpy import retarget
    from crowdmocap_addon.retarget.rig_bpy import source_motion
    from crowdmocap_addon.retarget.transfer import RetargetOptions

    bpy.ops.wm.open_mainfile(filepath=str(blend))
    person = longest_person(bpy)
    character = mixamo_character(bpy)
    result = retarget(
        bpy.context, [person], character, preset="auto", per_person=False, options=RetargetOptions(foot_pin=True)
    )
    print(f"retargeted {person.name} onto {character.name} with the '{result.bone_map.id}' preset "
          f"(auto-detected, score {result.detected_score:.2f})")  # fmt: skip
    stage(bpy, person)
    frames = source_motion(person).frames
    moments = [int(frames[i]) for i in np.linspace(0, len(frames) - 1, 5)[1:4].round().astype(int)]
    with tempfile.TemporaryDirectory() as folder:
        panels = render_panels(bpy, person, character, moments, Path(folder))
        images = [cv2.imread(str(path)) for path in panels]
    strip = np.concatenate(images, axis=1)
    for index, frame in enumerate(moments):
        cv2.putText(strip, f"frame {frame}", (index * PANEL_SIZE[0] + 16, 36), cv2.FONT_HERSHEY_SIMPLEX, 0.9,
                    (235, 235, 235), 2, cv2.LINE_AA)  # fmt: skip
    cv2.putText(strip, f"grey: {person.name} (captured)   orange: mixamorig: character (retargeted)",
                (16, PANEL_SIZE[1] - 20), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (235, 235, 235), 2, cv2.LINE_AA)  # fmt: skip
    cv2.imwrite(str(out), strip, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("blend", type=Path, help="a scene with CrowdMocap people (the demo's .blend)")
    parser.add_argument("out", type=Path, help="the picture to write (.jpg)")
    args = parser.parse_args()
    print(f"wrote {retarget_picture(args.blend.resolve(), args.out.resolve())}")


if __name__ == "__main__":
    main()
