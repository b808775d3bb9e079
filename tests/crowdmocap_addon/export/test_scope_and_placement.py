"""Which armatures an export takes, and where a game clip starts (pure)."""

import numpy as np
import pytest

from crowdmocap_addon.export.placement import start_transform, yaw_about_z
from crowdmocap_addon.export.scope import ExportScopeError, in_scope


def test_auto_takes_the_characters_when_a_retarget_made_any_else_the_people():
    kinds = ["captured", "captured", "other", "retargeted", "retargeted"]
    assert in_scope(kinds, "auto") == [3, 4]
    assert in_scope(["captured", "other", "captured"], "auto") == [0, 2]
    assert in_scope(kinds, "captured") == [0, 1]
    assert in_scope(kinds, "all") == [0, 1, 2, 3, 4]


def test_an_empty_scope_says_what_there_is():
    with pytest.raises(ExportScopeError, match=r"no retargeted armatures to export \(there are 2 captured, 1 other\)"):
        in_scope(["captured", "other", "captured"], "retargeted")
    with pytest.raises(ExportScopeError, match="must be one of"):
        in_scope(["captured"], "everyone")


def _about_z(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _about_x(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def _matrix(rotation, translation):
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = rotation, translation
    return out


@pytest.mark.parametrize("heading", [0.0, 0.7, -2.9, np.pi])
def test_the_clip_starts_over_the_origin_facing_as_the_rig_does_at_rest(heading):
    rest = _matrix(_about_x(np.pi / 2), [0.0, 0.0, 0.9])  # a bone whose rest is turned, as SMPL's pelvis
    lean = _about_x(0.3)  # bent forward: the heading is still the walk's
    posed = _matrix(_about_z(heading) @ lean @ rest[:3, :3], [19.6, -4.0, 0.93])
    move = start_transform(posed, rest)
    placed = move @ posed
    assert np.allclose(placed[:3, 3], [0.0, 0.0, 0.93])  # over the origin, the hip height kept
    assert yaw_about_z(placed[:3, :3] @ rest[:3, :3].T) == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(move[:3, :3], _about_z(-heading)) and move[2, 3] == 0.0  # one turn about Z, no lift


def test_heading_of_a_forward_axis_pointing_up_falls_back_to_the_side_axis():
    assert yaw_about_z(_about_z(0.4) @ _about_x(np.pi / 2)) == pytest.approx(0.4)
