"""JSON and AMASS exports carry the same motion as the result."""

import json

import numpy as np

from crowdmocap_addon.body.skeleton import forward_kinematics
from crowdmocap_addon.result.reader import read_result
from crowdmocap_addon.result.schema import PERSON_FIELDS
from inference_server.result.export import camera_to_world, export_amass, export_json
from inference_server.result.writer import write_result
from tests.helpers.captures import make_capture


def test_json_holds_the_same_content_as_the_npz(tmp_path, capture):
    result = read_result(write_result(tmp_path / "r.npz", capture))
    data = json.loads(export_json(result, tmp_path / "r.json").read_text())
    with np.load(tmp_path / "r.npz") as archive:
        assert data["meta"] == json.loads(str(archive["meta"]))
        for person in data["people"]:
            for name in PERSON_FIELDS:
                stored = archive[f"person/{person['id']}/{name}"]
                np.testing.assert_array_equal(np.asarray(person[name], dtype=stored.dtype), stored)


def test_amass_files_have_the_amass_keys_and_the_same_motion_in_a_z_up_world(tmp_path):
    for with_ground in (True, False):
        result = read_result(write_result(tmp_path / "r.npz", make_capture(with_ground=with_ground)))
        paths = export_amass(result, tmp_path / f"amass_{with_ground}")
        assert [p.name for p in paths] == ["person_001.npz", "person_004.npz", "person_007.npz"]
        rotation, offset = camera_to_world(result)
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
