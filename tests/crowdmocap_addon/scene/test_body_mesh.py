"""Per-person rest meshes: betas baked in, bound to the person's own rest skeleton."""

import numpy as np

from crowdmocap_addon.core.body.smpl_file import load_smpl_model
from crowdmocap_addon.core.body.standin import load_standin_body, skeleton_height
from crowdmocap_addon.core.joints import NUM_JOINTS
from crowdmocap_addon.scene.body_mesh import SmplBodies, StandinBodies, bind_to_skeleton, vertex_group_entries
from tests.helpers.captures import make_capture


def test_binding_moves_each_vertex_with_its_weighted_joints():
    rng = np.random.default_rng(0)
    own = rng.normal(size=(24, 3))
    target = own + rng.normal(scale=0.05, size=(24, 3))
    vertices = rng.normal(size=(6, 3))
    one_hot = np.eye(24)[[0, 5, 5, 9, 23, 12]]
    np.testing.assert_allclose(
        bind_to_skeleton(vertices, one_hot, own, target), vertices + (target - own)[[0, 5, 5, 9, 23, 12]]
    )
    blended = np.zeros((1, 24))
    blended[0, [3, 4]] = 0.25, 0.75
    moved = bind_to_skeleton(vertices[:1], blended, own, target)
    np.testing.assert_allclose(moved, vertices[:1] + 0.25 * (target - own)[3] + 0.75 * (target - own)[4])
    np.testing.assert_array_equal(bind_to_skeleton(vertices, one_hot, own, own), vertices)


def test_vertex_group_entries_hold_every_weight_that_matters():
    rng = np.random.default_rng(1)
    weights = rng.uniform(size=(50, 24)) * (rng.uniform(size=(50, 24)) > 0.8)
    entries = vertex_group_entries(weights)
    assert len(entries) == NUM_JOINTS
    rebuilt = np.zeros_like(weights)
    for joint, (rows, values) in enumerate(entries):
        rebuilt[rows, joint] = values
    np.testing.assert_array_equal(rebuilt, weights)


def test_smpl_bodies_bake_betas_and_match_a_result_made_with_the_same_model(smpl_npz):
    model = load_smpl_model(smpl_npz)
    track = make_capture(seed=3).people[0]
    track.rest_joints = model.rest_joints(track.betas)
    bodies = SmplBodies(model)
    np.testing.assert_allclose(bodies.rest_vertices(track), model.shaped_vertices(track.betas), atol=1e-12)
    assert bodies.joint_mismatch(track) < 1e-12
    track.rest_joints = track.rest_joints + [0.0, 0.02, 0.0]
    assert abs(bodies.joint_mismatch(track) - 0.02) < 1e-12
    np.testing.assert_allclose(bodies.rest_vertices(track), model.shaped_vertices(track.betas) + [0.0, 0.02, 0.0])


def test_standin_bodies_take_the_persons_height_and_exact_skeleton():
    body = load_standin_body()
    track = make_capture(seed=4).people[0]
    bodies = StandinBodies(body)
    vertices = bodies.rest_vertices(track)
    assert vertices.shape == body.vertices.shape
    np.testing.assert_array_equal(bodies.faces, body.faces)
    scaled = body.scaled_to(track.rest_joints)
    # Bound to the person's joints: exactly the scaled stand-in moved by each vertex's weighted joint offsets.
    expected = scaled.vertices + body.dense_weights().astype(np.float64) @ (track.rest_joints - scaled.rest_joints)
    np.testing.assert_allclose(vertices, expected, atol=1e-6)
    np.testing.assert_allclose(skeleton_height(scaled.rest_joints), skeleton_height(track.rest_joints))
    np.testing.assert_allclose(bodies.weights.sum(axis=1), 1.0, atol=1e-5)
