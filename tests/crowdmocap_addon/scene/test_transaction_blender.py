"""In real Blender: an import is all or nothing; bad inputs leave the scene exactly as it was."""

from dataclasses import replace

import numpy as np
import pytest

from crowdmocap_addon.core.body.smpl_file import SmplModelError
from crowdmocap_addon.core.result.schema import ResultFormatError
from crowdmocap_addon.scene import build_bpy, mesh_bpy
from tests.conftest import REPO
from tests.crowdmocap_addon.scene.scenes import datablock_counts, exact_capture, write

pytestmark = pytest.mark.blender
FOOTAGE = REPO / "tests" / "data" / "vtest_first10s.avi"


@pytest.fixture
def busy_scene(bpy_empty):
    """A scene with the user's own things in it, so that removal has something to spare."""
    bpy_empty.ops.mesh.primitive_cube_add()
    bpy_empty.ops.object.camera_add()
    scene = bpy_empty.context.scene
    scene.camera = bpy_empty.context.object
    scene.render.fps, scene.render.fps_base = 24, 1.0
    scene.frame_start, scene.frame_end = 1, 250
    return bpy_empty


def _scene_state(bpy):
    scene = bpy.context.scene
    render = scene.render
    return (datablock_counts(bpy), scene.camera.name, render.fps, render.fps_base, render.resolution_x,
            render.resolution_y, scene.frame_start, scene.frame_end)  # fmt: skip


def test_a_failure_midway_removes_everything_the_import_made(busy_scene, tmp_path, monkeypatch):
    capture = exact_capture(seed=1, people=3, frames=6)
    capture.video = replace(capture.video, path=str(FOOTAGE))
    path = write(tmp_path, capture)
    before = _scene_state(busy_scene)
    real_build = mesh_bpy.BodyBuilder.build
    calls = []

    def failing_build(self, track, armature):
        calls.append(track.id)
        if len(calls) == 3:  # two people are complete, the third is half-built
            raise RuntimeError("injected failure")
        return real_build(self, track, armature)

    monkeypatch.setattr(mesh_bpy.BodyBuilder, "build", failing_build)
    with pytest.raises(RuntimeError, match="injected failure"):
        build_bpy.import_result(busy_scene.context, path)
    assert len(calls) == 3
    assert _scene_state(busy_scene) == before
    assert busy_scene.context.mode == "OBJECT"
    monkeypatch.undo()
    build_bpy.import_result(busy_scene.context, path)  # and the same import then succeeds
    assert _scene_state(busy_scene)[0]["armatures"] == before[0]["armatures"] + 3


def test_a_failure_late_in_the_import_restores_the_scene_settings(busy_scene, tmp_path, monkeypatch):
    capture = exact_capture(seed=1, people=2, frames=6)
    capture.video = replace(capture.video, path=str(FOOTAGE))
    path = write(tmp_path, capture)
    before = _scene_state(busy_scene)
    real_apply = build_bpy.apply_render_settings

    def apply_then_fail(scene, *args, **kwargs):
        real_apply(scene, *args, **kwargs)
        assert len(busy_scene.data.movieclips) == 1  # the footage was loaded before the failure
        raise RuntimeError("injected after the render settings")

    monkeypatch.setattr(build_bpy, "apply_render_settings", apply_then_fail)
    with pytest.raises(RuntimeError, match="injected"):
        build_bpy.import_result(busy_scene.context, path)
    assert _scene_state(busy_scene) == before


def test_a_corrupt_smpl_file_is_a_clear_error_and_changes_nothing(busy_scene, tmp_path):
    path = write(tmp_path, exact_capture(seed=1, people=2, frames=6))
    corrupt = tmp_path / "SMPL_NEUTRAL.npz"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip")
    before = _scene_state(busy_scene)
    with pytest.raises(SmplModelError, match=r"SMPL_NEUTRAL\.npz"):
        build_bpy.import_result(busy_scene.context, path, smpl_model_path=corrupt)
    with pytest.raises(SmplModelError, match="No SMPL neutral model file found"):
        build_bpy.import_result(busy_scene.context, path, smpl_model_path=tmp_path / "missing_folder")
    assert _scene_state(busy_scene) == before


def test_a_malformed_result_is_a_result_format_error_and_changes_nothing(busy_scene, tmp_path):
    capture = exact_capture(seed=1, people=2, frames=6)
    good = write(tmp_path, capture)
    with np.load(good) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["person/1/transl"] = arrays["person/1/transl"][:, :2]
    broken = tmp_path / "broken.npz"
    np.savez(broken, **arrays)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    before = _scene_state(busy_scene)
    with pytest.raises(ResultFormatError, match=r"broken\.npz.*person 1.*'person/1/transl' declares shape"):
        build_bpy.import_result(busy_scene.context, broken)
    with pytest.raises(ResultFormatError, match=r"truncated\.npz"):
        build_bpy.import_result(busy_scene.context, truncated)
    assert _scene_state(busy_scene) == before
