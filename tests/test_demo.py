"""`make demo`'s code path on the first frames of the street clip: every promised file, and each one real."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from crowdmocap_addon.result.reader import read_result
from scripts import demo  # scripts/ is importable from the repository root

pytestmark = [pytest.mark.slow, pytest.mark.blender]


def test_demo_writes_result_preview_blend_fbx_and_stills(tmp_path):
    pytest.importorskip("mediapipe")
    import bpy

    out = demo.run_demo(tmp_path / "demo_out", stop=16, min_track_length=4)
    result = read_result(out.result)
    assert len(result.people) == out.people >= 3 and out.frames == 16
    with av.open(str(out.preview)) as video:
        assert sum(1 for _ in video.decode(video=0)) == 16
    assert sorted(p.name for p in out.fbx) == [f"{out.result.stem}_Person_{p.id:03d}.fbx" for p in result.people]
    bpy.ops.wm.open_mainfile(filepath=str(out.blend))
    people = [o for o in bpy.data.objects if o.type == "ARMATURE" and o.name.startswith("Person_")]
    assert len(people) == out.people and bpy.context.scene.camera is not None
    footage = next(demo.open_footage_frames(demo.STREET, 8))
    for still in (out.still_overlay, out.still_crowd):
        image = cv2.imread(str(still))
        assert image.shape == (576, 768, 3) and image.std() > 10
    drawn = cv2.imread(str(out.still_overlay))[..., ::-1].astype(int)
    changed = np.abs(drawn - footage.astype(int)).max(axis=2) > 40
    assert 0.002 < changed.mean() < 0.2  # the characters cover part of the frame, the footage the rest
