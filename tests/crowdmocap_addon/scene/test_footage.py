"""The footage is found as written or beside the result; its absence is not an error."""

from crowdmocap_addon.scene.footage import find_footage


def test_relative_paths_are_tried_beside_the_result(tmp_path):
    (tmp_path / "clips").mkdir()
    video = tmp_path / "clips" / "street.mp4"
    video.write_bytes(b"x")
    assert find_footage("clips/street.mp4", tmp_path / "take.npz") == video.resolve()
    assert find_footage("elsewhere/street.mp4", tmp_path / "clips" / "take.npz") == video.resolve()


def test_absolute_paths_are_used_as_they_are(tmp_path):
    video = tmp_path / "a.avi"
    video.write_bytes(b"x")
    assert find_footage(str(video), "/nowhere/take.npz") == video.resolve()


def test_missing_footage_is_none(tmp_path):
    assert find_footage("clips/street.mp4", tmp_path / "take.npz") is None
    assert find_footage("", tmp_path / "take.npz") is None
    assert find_footage(str(tmp_path / "gone.mp4"), tmp_path / "take.npz") is None
