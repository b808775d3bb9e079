"""Retarget speed: a crowd of N people x T frames onto per-person copies of a rig, against frame_set.

.venv/bin/python bench/retarget.py [--people 50] [--frames 1000] [--baseline-frames 50]

The retarget is the real worker (``crowdmocap_addon.retarget.retarget_bpy.retarget``) on an imported crowd
(stand-in bodies, stepping motion with foot contacts, foot pinning on), onto the UE5-like test rig with a
child mesh, duplicated per person. Its source poses come from each person's own F-curves (``foreach_get``,
``np.interp``) and NumPy forward kinematics. The baseline evaluates the same source poses the usual way:
``scene.frame_set`` per frame, then every person's pose-bone matrices read in bulk; it runs on the whole
crowd scene for ``--baseline-frames`` frames and is extrapolated linearly to T frames. Both run here.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import bpy  # noqa: E402
import numpy as np  # noqa: E402

from crowdmocap_addon.core.result.writer import write_result  # noqa: E402
from crowdmocap_addon.retarget import retarget_bpy  # noqa: E402
from crowdmocap_addon.retarget.transfer import RetargetOptions  # noqa: E402
from crowdmocap_addon.scene.build_bpy import import_result  # noqa: E402
from tests.crowdmocap_addon.retarget.motion import stepping_capture  # noqa: E402
from tests.crowdmocap_addon.retarget.rigs import build_armature, ue5_rig  # noqa: E402

_TRACK_ARRAYS = ("frames", "global_orient", "body_pose", "transl", "keypoints2d", "bbox", "confidence", "foot_contact")


class Stopwatch:
    """Wraps module functions and sums the time spent inside them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._undo: list[tuple[object, str, object]] = []

    def wrap(self, module: object, name: str, label: str) -> None:
        real = getattr(module, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start

        self._undo.append((module, name, real))
        setattr(module, name, timed)

    def restore(self) -> None:
        for module, name, real in reversed(self._undo):
            setattr(module, name, real)


def crowd_scene(people: int, frames: int, folder: Path) -> list[bpy.types.Object]:
    capture = stepping_capture(seed=0, people=people, frames=frames + people)
    for track in capture.people:  # make_capture shortens later tracks by one frame each: cut all to T
        for name in _TRACK_ARRAYS:
            setattr(track, name, getattr(track, name)[:frames])
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return import_result(bpy.context, write_result(folder / "crowd.npz", capture)).armatures


def rig_with_mesh() -> bpy.types.Object:
    rig = build_armature(bpy, ue5_rig())
    bpy.ops.mesh.primitive_uv_sphere_add(segments=32, ring_count=16)
    body = bpy.context.active_object
    body.parent = rig
    body.vertex_groups.new(name="pelvis").add(list(range(len(body.data.vertices))), 1.0, "REPLACE")
    body.modifiers.new("Armature", "ARMATURE").object = rig
    return rig


def frame_set_baseline(people: list[bpy.types.Object], frames: int) -> float:
    """Seconds to evaluate every person's pose on ``frames`` frames by stepping the timeline."""
    scene = bpy.context.scene
    start_frame = scene.frame_start
    buffers = [np.empty(len(person.pose.bones) * 16, dtype=np.float32) for person in people]
    start = time.perf_counter()
    for frame in range(start_frame, start_frame + frames):
        scene.frame_set(frame)
        for person, buffer in zip(people, buffers, strict=True):
            person.pose.bones.foreach_get("matrix", buffer)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--baseline-frames", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        people = crowd_scene(args.people, args.frames, Path(tmp))
        import_seconds = time.perf_counter() - start
    rig = rig_with_mesh()
    watch = Stopwatch()
    watch.wrap(retarget_bpy, "source_motion", "source")
    watch.wrap(retarget_bpy, "retarget_motion", "transfer")
    watch.wrap(retarget_bpy, "duplicate_rig", "duplicate")
    watch.wrap(retarget_bpy, "_motion_channels", "channels")
    watch.wrap(retarget_bpy, "animate", "bake")
    try:
        start = time.perf_counter()
        result = retarget_bpy.retarget(bpy.context, people, rig, per_person=True, options=RetargetOptions())
        total = time.perf_counter() - start
    finally:
        watch.restore()
    person_frames = args.people * args.frames
    curves = sum(len(action.layers[0].strips[0].channelbags[0].fcurves) for action in result.actions)
    keys = sum(len(fc.keyframe_points) for a in result.actions for bag in a.layers[0].strips[0].channelbags
               for fc in bag.fcurves)  # fmt: skip
    baseline_frames = min(args.baseline_frames, args.frames)
    baseline = frame_set_baseline(people, baseline_frames)
    baseline_per = baseline / (args.people * baseline_frames)
    source_per = watch.seconds["source"] / person_frames
    bake = watch.seconds["bake"]
    per_person = f"{total / args.people * 1e3:.1f} ms/person, {total / person_frames * 1e6:.1f} us/person-frame"
    rows = [
        ("retarget, total", f"{total:9.2f} s", per_person),
        ("  source poses from F-curves + NumPy FK", f"{watch.seconds['source']:9.2f} s",
         f"{source_per * 1e6:.2f} us/person-frame"),
        ("  transfer + foot pinning (NumPy)", f"{watch.seconds['transfer']:9.2f} s", ""),
        ("  duplicate rig + mesh per person", f"{watch.seconds['duplicate']:9.2f} s", ""),
        ("  channel arrays (rotation modes)", f"{watch.seconds['channels']:9.2f} s", ""),
        ("  bake keys (add + foreach_set)", f"{bake:9.2f} s", f"{keys:,} keys, {keys / bake / 1e6:.2f} M keys/s"),
        (f"frame_set baseline, {baseline_frames} frames measured", f"{baseline:9.2f} s",
         f"{baseline_per * 1e6:.1f} us/person-frame"),
        ("frame_set baseline, extrapolated to all frames", f"{baseline_per * person_frames:9.2f} s", ""),
        ("speed-up on source poses (baseline / F-curves)", f"{baseline_per / source_per:9.1f} x", ""),
    ]  # fmt: skip
    print(f"Blender {bpy.app.version_string}: {args.people} people x {args.frames} frames onto per-person copies of "
          f"'{rig.name}' ({len(rig.data.bones)} bones, {curves // args.people} curves each), foot pinning on; "
          f"import {import_seconds:.1f} s")  # fmt: skip
    for label, value, note in rows:
        print(f"{label:<50}{value}   {note}".rstrip())


if __name__ == "__main__":
    main()
