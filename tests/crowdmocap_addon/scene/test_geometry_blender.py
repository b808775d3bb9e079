"""In real Blender: bones follow forward kinematics, meshes follow SMPL skinning, the camera sees the keypoints."""

import importlib.util
from dataclasses import replace

import numpy as np
import pytest

from crowdmocap_addon.core.body.skinning import skin_vertices
from crowdmocap_addon.core.body.smpl_file import load_smpl_model
from crowdmocap_addon.core.body.standin import load_standin_body
from crowdmocap_addon.core.result.schema import GroundPlane
from crowdmocap_addon.core.world import world_transform
from crowdmocap_addon.scene.body_mesh import StandinBodies
from crowdmocap_addon.scene.build_bpy import import_result
from tests.crowdmocap_addon.scene.scenes import (
    COCO_TO_SMPL,
    camera_joints,
    exact_capture,
    exact_moving_capture,
    posed_heads,
    smpl_capture,
    standing_capture,
    write,
)

pytestmark = pytest.mark.blender
MM = 1e-3


@pytest.mark.parametrize("aligned", [False, True])
def test_every_pose_bone_head_is_the_forward_kinematics_joint(bpy_empty, tmp_path, aligned):
    capture = exact_capture(seed=1, people=4, frames=9)
    imported = import_result(bpy_empty.context, write(tmp_path, capture), align_to_ground=aligned)
    transform = world_transform(capture.ground, aligned)
    scene = bpy_empty.context.scene
    for track, armature in zip(capture.people, imported.armatures, strict=True):
        expected = transform.apply(camera_joints(track))
        for index in (0, len(track.frames) // 2, len(track.frames) - 1):
            heads = posed_heads(scene, armature, int(track.frames[index]) + 1)
            np.testing.assert_allclose(heads, expected[index], atol=MM)


def _evaluated_vertices(bpy, body):
    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = body.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        local = np.empty(len(mesh.vertices) * 3, dtype=np.float32)
        mesh.vertices.foreach_get("co", local)
    finally:
        evaluated.to_mesh_clear()
    world = np.array(evaluated.matrix_world)
    return local.reshape(-1, 3) @ world[:3, :3].T + world[:3, 3]


def test_evaluated_body_meshes_equal_smpl_skinning(bpy_empty, tmp_path, smpl_npz):
    capture = smpl_capture(smpl_npz, seed=3, people=2, frames=6)
    imported = import_result(bpy_empty.context, write(tmp_path, capture), smpl_model_path=smpl_npz)
    assert imported.body_kind == "smpl"
    model = load_smpl_model(smpl_npz)
    transform = world_transform(capture.ground, True)
    scene = bpy_empty.context.scene
    for track, body in zip(capture.people, imported.bodies, strict=True):
        # Blender's armature deform is linear blend skinning without SMPL's pose-corrective shapes.
        expected = skin_vertices(model, track.betas, track.global_orient, track.body_pose, track.transl,
                                 pose_blend_shapes=False)  # fmt: skip
        for index in (0, len(track.frames) - 1):
            scene.frame_set(int(track.frames[index]) + 1)
            np.testing.assert_allclose(_evaluated_vertices(bpy_empty, body), transform.apply(expected[index]), atol=MM)


@pytest.mark.skipif(importlib.util.find_spec("smplx") is None, reason="smplx is installed in the 3.11 venv only")
def test_evaluated_body_meshes_equal_smplx_without_pose_correctives(bpy_empty, tmp_path, smpl_npz):
    import torch

    from inference_server.body.smpl_layer import SmplBody

    capture = smpl_capture(smpl_npz, seed=4, people=2, frames=5)
    imported = import_result(bpy_empty.context, write(tmp_path, capture), smpl_model_path=smpl_npz,
                             align_to_ground=False)  # fmt: skip
    model = load_smpl_model(smpl_npz)
    layer = SmplBody(replace(model, posedirs=np.zeros_like(model.posedirs)), dtype=torch.float64)
    transform = world_transform(None, False)
    scene = bpy_empty.context.scene
    for track, body in zip(capture.people, imported.bodies, strict=True):
        count = len(track.frames)
        with torch.no_grad():
            out = layer(torch.as_tensor(np.tile(track.betas, (count, 1))), torch.as_tensor(track.global_orient),
                        torch.as_tensor(track.body_pose), torch.as_tensor(track.transl))  # fmt: skip
        vertices = out.vertices.numpy()
        for index in range(count):
            scene.frame_set(int(track.frames[index]) + 1)
            np.testing.assert_allclose(_evaluated_vertices(bpy_empty, body), transform.apply(vertices[index]), atol=MM)


@pytest.mark.parametrize(
    ("width", "height", "principal_point", "ground"),
    [(768, 576, (384.0, 288.0), True), (1280, 720, (600.0, 400.0), True), (720, 1280, (380.0, 600.0), False)],
)
def test_the_camera_projects_joints_onto_the_keypoints(bpy_empty, tmp_path, width, height, principal_point, ground):
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    capture = exact_capture(seed=5, people=3, frames=6, width=width, height=height,
                            principal_point=principal_point, ground=ground)  # fmt: skip
    imported = import_result(bpy_empty.context, write(tmp_path, capture))
    scene = bpy_empty.context.scene
    assert (scene.render.resolution_x, scene.render.resolution_y) == (width, height)
    for track, armature in zip(capture.people, imported.armatures, strict=True):
        for index in (0, len(track.frames) - 1):
            heads = posed_heads(scene, armature, int(track.frames[index]) + 1)[list(COCO_TO_SMPL)]
            ndc = np.array([world_to_camera_view(scene, imported.camera, Vector(h)) for h in heads])
            pixels = np.stack([ndc[:, 0] * width, (1.0 - ndc[:, 1]) * height], axis=1)
            np.testing.assert_allclose(pixels, track.keypoints2d[index, :, :2], atol=1.0)


@pytest.mark.parametrize("aligned", [False, True])
def test_a_turning_zooming_camera_keeps_every_character_on_their_keypoints(bpy_empty, tmp_path, aligned):
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    capture = exact_moving_capture(seed=6, people=3, frames=12, pan=10.0, tilt=-4.0, roll=3.0, zoom=1.3)
    imported = import_result(bpy_empty.context, write(tmp_path, capture), align_to_ground=aligned)
    scene, camera = bpy_empty.context.scene, imported.camera
    lens = {}
    for track, armature in zip(capture.people, imported.armatures, strict=True):
        for index in range(len(track.frames)):
            heads = posed_heads(scene, armature, int(track.frames[index]) + 1)[list(COCO_TO_SMPL)]
            ndc = np.array([world_to_camera_view(scene, camera, Vector(h)) for h in heads])
            pixels = np.stack([ndc[:, 0] * 768, (1.0 - ndc[:, 1]) * 576], axis=1)
            np.testing.assert_allclose(pixels, track.keypoints2d[index, :, :2], atol=1.0)
            lens[int(track.frames[index])] = camera.data.lens
    # the lens follows the zoom, and the camera turns: a still camera would be pixels off
    motion = capture.camera_motion
    expected = motion.focal_px[motion.slots(np.array(sorted(lens)))] * 36.0 / 768
    np.testing.assert_allclose([lens[f] for f in sorted(lens)], expected, rtol=1e-5)
    scene.frame_set(int(motion.frames[0]) + 1)
    start = np.array(camera.matrix_world)
    scene.frame_set(int(motion.frames[-1]) + 1)
    turned = np.degrees(
        np.arccos(np.clip((np.trace(start[:3, :3].T @ np.array(camera.matrix_world)[:3, :3]) - 1) / 2, -1, 1))
    )
    assert turned == pytest.approx(np.degrees(np.linalg.norm(motion.rotation[-1])), abs=0.01)
    bridged = int(motion.frames[np.flatnonzero(motion.measured == 0)[0]])  # the frame the camera was bridged over
    scene.frame_set(bridged + 1)
    assert camera["crowdmocap_camera_measured"] == 0.0
    scene.frame_set(bridged + 2)
    assert camera["crowdmocap_camera_measured"] == 1.0


def test_ground_alignment_puts_feet_on_z0_and_keeps_the_camera_view(bpy_empty, tmp_path):
    normal = np.array([0.05, -0.96, 0.27])
    ground = GroundPlane(normal=tuple(normal / np.linalg.norm(normal)), offset=1.7)
    capture = standing_capture(ground)
    path = write(tmp_path, capture)
    camera_space = {}
    for aligned in (True, False):
        bpy_empty.ops.wm.read_factory_settings(use_empty=True)
        imported = import_result(bpy_empty.context, path, align_to_ground=aligned)
        scene = bpy_empty.context.scene
        to_camera = np.linalg.inv(np.array(imported.camera.matrix_world))
        camera_space[aligned] = []
        for track, armature in zip(capture.people, imported.armatures, strict=True):
            heads = posed_heads(scene, armature, int(track.frames[-1]) + 1)  # hidden people are not evaluated
            if aligned:
                assert heads[:, 2].min() == pytest.approx(0.0, abs=MM)  # the lowest joint stands on the floor
                assert heads[:, 2].max() > 1.0  # and the head is above it
            camera_space[aligned].append(heads @ to_camera[:3, :3].T + to_camera[:3, 3])
        if aligned:
            np.testing.assert_allclose(np.array(imported.camera.matrix_world)[2, 3], 1.7, atol=1e-6)
    np.testing.assert_allclose(camera_space[True], camera_space[False], atol=MM)


def test_evaluated_standin_bodies_follow_the_persons_skeleton(bpy_empty, tmp_path):
    capture = exact_capture(seed=6, people=2, frames=5)
    imported = import_result(bpy_empty.context, write(tmp_path, capture), align_to_ground=False)
    assert imported.body_kind == "standin"
    standins = StandinBodies(load_standin_body())
    transform = world_transform(None, False)
    scene = bpy_empty.context.scene
    for track, body in zip(capture.people, imported.bodies, strict=True):
        # The NumPy skinning of the stand-in, rebound to this person's rest joints.
        bound = replace(load_standin_body(), vertices=standins.rest_vertices(track), rest_joints=track.rest_joints)
        expected = bound.posed_vertices(track.global_orient, track.body_pose, track.transl)
        for index in (0, len(track.frames) - 1):
            scene.frame_set(int(track.frames[index]) + 1)
            np.testing.assert_allclose(_evaluated_vertices(bpy_empty, body), transform.apply(expected[index]), atol=MM)
