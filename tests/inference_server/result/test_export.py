"""JSON and AMASS exports carry the same motion as the result."""

import json
from dataclasses import replace

import numpy as np

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.geometry import matrix_to_axis_angle, quaternion_to_matrix
from crowdmocap_addon.core.result.reader import read_result
from crowdmocap_addon.core.result.schema import CAMERA_FIELDS, PERSON_FIELDS
from crowdmocap_addon.core.result.writer import write_result
from crowdmocap_addon.core.world import world_transform
from crowdmocap_addon.scene.axes import SMPL_TO_BLENDER, armature_frame
from crowdmocap_addon.scene.keyframes import bone_quaternions, pelvis_locations
from inference_server.result.export import export_amass, export_json
from tests.crowdmocap_addon.core.test_world import rolled_and_tilted_ground
from tests.helpers.captures import make_capture, turning_camera


def test_json_holds_the_same_content_as_the_npz(tmp_path, capture):
    result = read_result(write_result(tmp_path / "r.npz", capture))
    data = json.loads(export_json(result, tmp_path / "r.json").read_text())
    with np.load(tmp_path / "r.npz") as archive:
        assert data["meta"] == json.loads(str(archive["meta"]))
        for person in data["people"]:
            for name in PERSON_FIELDS:
                stored = archive[f"person/{person['id']}/{name}"]
                np.testing.assert_array_equal(np.asarray(person[name], dtype=stored.dtype), stored)
    assert "camera" not in data  # a still camera: nothing per frame


def test_json_of_a_moving_camera_holds_every_camera_array(tmp_path, capture):
    capture.camera_motion = turning_camera(capture)
    result = read_result(write_result(tmp_path / "r.npz", capture))
    data = json.loads(export_json(result, tmp_path / "r.json").read_text())
    assert data["meta"]["camera"]["motion"] == {"num_frames": result.camera_motion.num_frames}
    with np.load(tmp_path / "r.npz") as archive:
        for name in CAMERA_FIELDS:
            stored = archive[f"camera/{name}"]
            np.testing.assert_array_equal(np.asarray(data["camera"][name], dtype=stored.dtype), stored)


def test_amass_files_have_the_amass_keys_and_the_same_motion_in_a_z_up_world(tmp_path):
    for with_ground in (True, False):
        result = read_result(write_result(tmp_path / "r.npz", make_capture(with_ground=with_ground)))
        paths = export_amass(result, tmp_path / f"amass_{with_ground}")
        assert [p.name for p in paths] == ["person_001.npz", "person_004.npz", "person_007.npz"]
        world_frame = world_transform(result.ground)
        rotation, offset = world_frame.rotation, world_frame.offset
        for track, path in zip(result.people, paths, strict=False):
            with np.load(path, allow_pickle=False) as amass:
                assert amass["poses"].shape == (track.num_frames, 72)
                assert amass["trans"].shape == (track.num_frames, 3)
                assert str(amass["gender"]) == "neutral"
                assert float(amass["mocap_framerate"]) == np.float64(29.97)
                np.testing.assert_allclose(amass["betas"], track.betas)
                world = forward_kinematics(
                    track.rest_joints, amass["poses"][:, :3], amass["poses"][:, 3:].reshape(-1, 23, 3), amass["trans"]
                ).joints
            camera = forward_kinematics(track.rest_joints, track.global_orient, track.body_pose, track.transl).joints
            np.testing.assert_allclose(world, camera @ rotation.T + offset, atol=1e-5)
            # Upright people stand up along +z: the head is above the pelvis in the world.
            assert np.all(world[:, 15, 2] > world[:, 0, 2])
        if with_ground:
            np.testing.assert_allclose(rotation[2], result.ground.normal, atol=1e-6)


def test_the_scene_and_the_amass_export_put_people_in_the_same_world(tmp_path):
    """A camera rolled 5 degrees and tilted 20 over its floor: every consumer agrees on the world pose."""
    capture = replace(make_capture(with_ground=True), ground=rolled_and_tilted_ground(roll_deg=5.0, tilt_deg=20.0))
    result = read_result(write_result(tmp_path / "r.npz", capture))
    paths = export_amass(result, tmp_path / "amass")
    to_armature = armature_frame(world_transform(result.ground, True))  # what the Blender scene keys
    for track, path in zip(result.people, paths, strict=True):
        with np.load(path, allow_pickle=False) as amass:
            poses, trans = amass["poses"], amass["trans"]
        amass_joints = forward_kinematics(track.rest_joints, poses[:, :3], poses[:, 3:].reshape(-1, 23, 3), trans)
        quats = bone_quaternions(track, to_armature)  # the pose bones, root turn included
        local = matrix_to_axis_angle(quaternion_to_matrix(quats))
        in_armature = forward_kinematics(track.rest_joints, local[:, 0], local[:, 1:],
                                         pelvis_locations(track, to_armature))  # fmt: skip
        scene_joints = in_armature.joints @ SMPL_TO_BLENDER.T  # the armature object's rotation
        np.testing.assert_allclose(scene_joints, amass_joints.joints, atol=1e-5)
        np.testing.assert_allclose(in_armature.rotations[:, 0] @ [0, 0, 1] @ SMPL_TO_BLENDER.T,
                                   amass_joints.rotations[:, 0] @ [0, 0, 1], atol=1e-5)  # fmt: skip
