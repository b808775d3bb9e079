import numpy as np

from crowdmocap_addon.core.body.smpl_file import load_smpl_model
from inference_server.estimators.lift.bone_fit import bone_lengths_from_landmarks, fit_betas, skeleton_lengths
from tests.inference_server.estimators.lift.test_solve import _landmarks, _plausible_pose


def test_betas_reproduce_a_persons_bone_lengths(smpl_npz):
    model = load_smpl_model(smpl_npz)
    rng = np.random.default_rng(3)
    true_betas = rng.normal(scale=1.0, size=10)
    rest = model.rest_joints(true_betas)
    target = skeleton_lengths(rest)
    betas = fit_betas(model, target)
    np.testing.assert_allclose(skeleton_lengths(model.rest_joints(betas)), target, atol=0.002)  # within 2 mm
    assert np.abs(skeleton_lengths(model.rest_joints(np.zeros(10))) - target).max() > 0.01  # it had to move


def test_lengths_measured_on_landmarks_are_the_skeletons():
    rng = np.random.default_rng(4)
    frames = [_landmarks(*_plausible_pose(rng), np.zeros(3))[0] for _ in range(5)]
    from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS

    measured, skeleton = bone_lengths_from_landmarks(np.stack(frames)), skeleton_lengths(STANDIN_REST_JOINTS)
    np.testing.assert_allclose(measured[:-1], skeleton[:-1], atol=1e-9)  # limbs are rigid
    assert abs(measured[-1] - skeleton[-1]) < 0.03  # hips-to-shoulders shortens a little when the spine bends


def test_rest_skeleton_of_a_track_uses_smpl_when_given(smpl_npz):
    from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS
    from inference_server.estimators.lift.track import rest_skeleton
    from inference_server.tracking.tracker import Track

    rng = np.random.default_rng(6)
    landmarks = np.stack([_landmarks(*_plausible_pose(rng), np.zeros(3))[0] for _ in range(6)])
    track = Track(id=1, frames=np.arange(6), keypoints=np.zeros((6, 17, 3)), boxes=np.zeros((6, 4)),
                  observed=np.ones(6, bool), scores=np.ones(6), world_landmarks=landmarks)  # fmt: skip
    standin = rest_skeleton(track, None)
    assert standin.kind == "standin" and not standin.betas.any()
    np.testing.assert_array_equal(standin.joints, STANDIN_REST_JOINTS)
    fitted = rest_skeleton(track, load_smpl_model(smpl_npz))
    assert fitted.kind == "smpl" and fitted.joints.shape == (24, 3)
    # the landmarks come from the stand-in skeleton, which the synthetic SMPL reproduces at betas = 0
    np.testing.assert_allclose(
        skeleton_lengths(fitted.joints)[:-1], skeleton_lengths(STANDIN_REST_JOINTS)[:-1], atol=0.005
    )


def test_limbs_hidden_in_some_frames_follow_the_frames_where_they_were_seen():
    from inference_server.estimators.lift.track import fill_unseen_limbs

    frames = 11
    body = np.zeros((frames, 23, 3))
    body[:, 17, 1] = -np.linspace(0.0, 1.0, frames)  # the left elbow bends steadily
    keypoints = np.full((frames, 17, 3), 0.9)
    garbage = body.copy()
    garbage[4:7, 17] = [2.0, 2.0, 0.0]  # wild guesses while the left wrist is hidden
    keypoints[4:7, 9, 2] = 0.05
    filled = fill_unseen_limbs(garbage, keypoints)
    np.testing.assert_allclose(filled[:, 17], body[:, 17], atol=1e-3)  # back on the steady bend (nlerp, not slerp)
    np.testing.assert_array_equal(filled[:, 18], garbage[:, 18])  # the right arm, always seen, untouched
