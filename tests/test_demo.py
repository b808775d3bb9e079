"""`make demo`'s code path on the first frames of the street clip: every promised file, and each one real."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from crowdmocap_addon.core.result.reader import read_result
from scripts import demo  # scripts/ is importable from the repository root
from scripts.retarget_picture import PANEL_SIZE, retarget_picture
from tests.conftest import FETCHED_MODELS

pytestmark = [pytest.mark.slow, pytest.mark.blender]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    pytest.importorskip("mediapipe")
    # with the models `make` fetched, as `make demo` runs (the NanoDet-g person detector)
    return demo.run_demo(tmp_path_factory.mktemp("demo") / "demo_out", stop=16, min_track_length=4,
                         models=FETCHED_MODELS)  # fmt: skip


def test_demo_writes_result_preview_blend_fbx_and_stills(out):
    import bpy

    result = read_result(out.result)
    assert len(result.people) == out.people >= 3 and out.frames == 16
    with av.open(str(out.preview)) as video:
        assert sum(1 for _ in video.decode(video=0)) == 16
    numbers = range(1, len(result.people) + 1)  # people are numbered in order of appearance
    assert sorted(p.name for p in out.fbx) == [f"{out.result.stem}_Person_{n:03d}.fbx" for n in numbers]
    bpy.ops.wm.open_mainfile(filepath=str(out.blend))
    people = [o for o in bpy.data.objects if o.type == "ARMATURE" and "_Person_" in o.name]
    assert len(people) == out.people and bpy.context.scene.camera is not None
    footage = next(demo.open_footage_frames(demo.STREET, 8))
    for still in (out.still_overlay, out.still_crowd):
        image = cv2.imread(str(still))
        assert image.shape == (576, 768, 3) and image.std() > 10
    drawn = cv2.imread(str(out.still_overlay))[..., ::-1].astype(int)
    changed = np.abs(drawn - footage.astype(int)).max(axis=2) > 40
    assert 0.002 < changed.mean() < 0.2  # the characters cover part of the frame, the footage the rest


def test_the_retarget_picture_shows_the_person_and_the_character_in_every_panel(out, tmp_path):
    import bpy

    picture = cv2.imread(str(retarget_picture(out.blend, tmp_path / "retarget.jpg")))
    width, height = PANEL_SIZE
    assert picture.shape == (height, 3 * width, 3)
    character = bpy.data.objects["MixamoCharacter"]
    fcurves = character.animation_data.action.layers[0].strips[0].channelbag(character.animation_data.action_slot)
    assert any(fc.data_path == 'pose.bones["mixamorig:LeftUpLeg"].rotation_quaternion' for fc in fcurves.fcurves)
    for panel in np.split(picture[60:-60].astype(int), 3, axis=1):  # rows without the captions
        blue, red = panel[..., 0], panel[..., 2]
        orange = (red - blue > 40) & (red > 100)  # the character (colours muted by the view transform)
        grey = (np.abs(red - blue) < 12) & (red > 110)  # the captured person, lit (the floor is darker)
        assert orange.mean() > 0.005 and grey.mean() > 0.005, (orange.mean(), grey.mean())
