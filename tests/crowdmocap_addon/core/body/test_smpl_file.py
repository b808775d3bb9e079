"""Reading SMPL model files: the official chumpy pickle layout, plain .npz, and every way they go wrong."""

import pickle

import numpy as np
import pytest

from crowdmocap_addon.core.body.smpl_file import (
    SmplModelError,
    SmplModelNotFoundError,
    find_smpl_model,
    load_smpl_model,
    save_smpl_npz,
)
from tests.helpers.synthetic_smpl import REST_JOINTS, synthetic_smpl_arrays, write_official_pkl


def test_official_pickle_loads_without_chumpy_or_scipy(smpl_official_pkl):
    raw = smpl_official_pkl.read_bytes()
    assert b"chumpy.ch\nCh\n" in raw
    assert b"scipy.sparse.csc\ncsc_matrix\n" in raw
    model = load_smpl_model(smpl_official_pkl)
    expected = synthetic_smpl_arrays()
    np.testing.assert_array_equal(model.shapedirs, expected["shapedirs"])
    np.testing.assert_array_equal(model.j_regressor, expected["J_regressor"])
    np.testing.assert_array_equal(model.faces, expected["f"])
    assert model.gender == "neutral"
    assert model.num_betas == 10
    np.testing.assert_allclose(model.rest_joints(np.zeros(10)), REST_JOINTS, atol=1e-12)


def test_npz_and_pickle_give_the_same_model(smpl_official_pkl, smpl_npz):
    from_pkl, from_npz = load_smpl_model(smpl_official_pkl), load_smpl_model(smpl_npz)
    for name in ("v_template", "shapedirs", "posedirs", "j_regressor", "weights", "faces"):
        np.testing.assert_array_equal(getattr(from_pkl, name), getattr(from_npz, name))


def test_convert_to_npz_round_trips(smpl_official_pkl, tmp_path):
    out = save_smpl_npz(load_smpl_model(smpl_official_pkl), tmp_path / "conv" / "SMPL_NEUTRAL.npz")
    with np.load(out, allow_pickle=False) as archive:  # plain NumPy, no pickle anywhere
        assert set(archive.files) >= {
            "v_template",
            "shapedirs",
            "posedirs",
            "J_regressor",
            "weights",
            "kintree_table",
            "f",
            "gender",
        }
    again = load_smpl_model(out)
    np.testing.assert_array_equal(again.j_regressor, load_smpl_model(smpl_official_pkl).j_regressor)


def test_betas_change_the_rest_skeleton(smpl_npz):
    model = load_smpl_model(smpl_npz)
    taller = model.rest_joints(np.array([2.0] + [0.0] * 9))
    assert taller[15, 1] > REST_JOINTS[15, 1] + 0.05  # shape 0 scales the body up: the head rises


def test_folder_is_searched_for_the_requested_gender(tmp_path):
    (tmp_path / "smpl").mkdir()
    target = write_official_pkl(tmp_path / "smpl" / "basicmodel_f_lbs_10_207_0_v1.1.0.pkl")
    assert find_smpl_model(tmp_path, "female") == target
    assert load_smpl_model(tmp_path, "female").gender == "female"


def test_missing_model_names_the_file_the_folder_and_where_to_get_it(tmp_path):
    with pytest.raises(SmplModelNotFoundError) as err:
        load_smpl_model(tmp_path, "neutral")
    message = str(err.value)
    assert "SMPL_NEUTRAL.npz" in message
    assert str(tmp_path) in message
    assert "smplify.is.tue.mpg.de" in message
    with pytest.raises(SmplModelNotFoundError, match="does not exist"):
        load_smpl_model(tmp_path / "nope.pkl")


def test_pickle_with_foreign_class_is_refused_not_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"v_template": Evil()}, protocol=2))
    with pytest.raises(SmplModelError, match=r"refusing to load (__builtin__|builtins)\.print"):
        load_smpl_model(path)


def test_missing_array_and_wrong_shapes_are_named(tmp_path):
    arrays = synthetic_smpl_arrays()
    del arrays["posedirs"]
    np.savez(tmp_path / "a.npz", **arrays)
    with pytest.raises(SmplModelError, match="no 'posedirs' array"):
        load_smpl_model(tmp_path / "a.npz")
    arrays = synthetic_smpl_arrays()
    arrays["weights"] = arrays["weights"][:, :20]
    np.savez(tmp_path / "b.npz", **arrays)
    with pytest.raises(SmplModelError, match=r"'weights' has shape \(192, 20\), expected \(192, 24\)"):
        load_smpl_model(tmp_path / "b.npz")


def test_other_joint_trees_are_rejected(tmp_path):
    arrays = synthetic_smpl_arrays()
    arrays["kintree_table"][0, 4] = 2  # left knee hung under the right hip
    np.savez(tmp_path / "c.npz", **arrays)
    with pytest.raises(SmplModelError, match="not SMPL's 24-joint tree"):
        load_smpl_model(tmp_path / "c.npz")


@pytest.mark.parametrize("content", [b"", b"not a pickle at all", b"PK\x03\x04broken zip"])
def test_garbage_files_give_a_model_error(tmp_path, content):
    for suffix in (".pkl", ".npz"):
        path = tmp_path / f"junk{suffix}"
        path.write_bytes(content)
        with pytest.raises(SmplModelError, match="junk"):
            load_smpl_model(path)
