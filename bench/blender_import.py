"""Blender import speed: N people x T frames through the bulk path, against a keyframe_insert baseline.

.venv/bin/python bench/blender_import.py [--people 100] [--frames 1000] [--baseline-people 2]

The bulk path is the real import (``crowdmocap_addon.scene.build_bpy.import_result``, stand-in bodies):
F-curves filled with ``keyframe_points.add`` + ``foreach_set``. The baseline keys the same channels
(24 bone quaternions, pelvis location, three custom properties, visibility) one ``keyframe_insert`` per
channel per frame, on ``--baseline-people`` of the same people over all T frames, in a scene holding only
those people (keyframe_insert gets slower as the scene grows, so this favours the baseline), and is
extrapolated linearly to N people (people have separate curves). Both run in this process.
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

from crowdmocap_addon.core.joints import JOINT_NAMES  # noqa: E402
from crowdmocap_addon.core.result.writer import write_result  # noqa: E402
from crowdmocap_addon.core.world import world_transform  # noqa: E402
from crowdmocap_addon.scene import build_bpy  # noqa: E402
from crowdmocap_addon.scene.axes import armature_frame  # noqa: E402
from crowdmocap_addon.scene.keyframes import (  # noqa: E402
    CUSTOM_PROPERTIES,
    bone_quaternions,
    pelvis_locations,
)
from crowdmocap_addon.scene.timeline import scene_frames  # noqa: E402
from tests.helpers.captures import make_capture  # noqa: E402

CHANNELS_PER_PERSON = 24 * 4 + 3 + len(CUSTOM_PROPERTIES)  # visibility adds 2 x 3 keys per object


def _timed_animate(timings: list[float]):
    real = build_bpy.animate

    def animate(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            timings.append(time.perf_counter() - start)

    return animate


def bulk_import(path: Path) -> tuple[float, float, build_bpy.ImportedCapture]:
    """(total seconds, seconds inside the keyframe writer, capture) for the real import."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    timings: list[float] = []
    real = build_bpy.animate
    build_bpy.animate = _timed_animate(timings)
    try:
        start = time.perf_counter()
        capture = build_bpy.import_result(bpy.context, path)
        total = time.perf_counter() - start
    finally:
        build_bpy.animate = real
    return total, sum(timings), capture


def keyframe_insert_baseline(capture, path: Path) -> tuple[float, int]:
    """(seconds, keys) importing ``capture`` (a few people), then keying it again one keyframe_insert at a time."""
    _, _, imported = bulk_import(path)
    to_armature = armature_frame(world_transform(capture.ground, True))
    keys = 0
    for armature in imported.armatures:
        armature.animation_data_clear()
    start = time.perf_counter()
    for track, armature in zip(capture.people, imported.armatures, strict=True):
        quats = bone_quaternions(track, to_armature)
        location = pelvis_locations(track, to_armature)
        bones = [armature.pose.bones[name] for name in JOINT_NAMES]
        for index, frame in enumerate(scene_frames(track.frames)):
            for joint, bone in enumerate(bones):
                bone.rotation_quaternion = quats[index, joint]
                bone.keyframe_insert("rotation_quaternion", frame=frame)
            bones[0].location = location[index]
            bones[0].keyframe_insert("location", frame=frame)
            armature["crowdmocap_confidence"] = float(track.confidence[index])
            armature["crowdmocap_contact_left"] = float(track.foot_contact[index, 0])
            armature["crowdmocap_contact_right"] = float(track.foot_contact[index, 1])
            for name in CUSTOM_PROPERTIES:
                armature.keyframe_insert(f'["{name}"]', frame=frame)
            keys += CHANNELS_PER_PERSON
    return time.perf_counter() - start, keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--baseline-people", type=int, default=2)
    args = parser.parse_args()
    capture = make_capture(seed=0, people=args.people, frames=args.frames + args.people)
    for track in capture.people:  # make_capture shortens later tracks by one frame each: cut all to T
        for name in ("frames", "global_orient", "body_pose", "transl", "keypoints2d", "bbox", "confidence",
                     "foot_contact"):  # fmt: skip
            setattr(track, name, getattr(track, name)[: args.frames])
    keys = args.people * args.frames * CHANNELS_PER_PERSON
    with tempfile.TemporaryDirectory() as tmp:
        path = write_result(Path(tmp) / "bench.npz", capture)
        total, keying, _ = bulk_import(path)
        capture.people = capture.people[: args.baseline_people]
        subset = write_result(Path(tmp) / "baseline.npz", capture)
        baseline_seconds, baseline_keys = keyframe_insert_baseline(capture, subset)
    per_key = baseline_seconds / baseline_keys
    print(f"Blender {bpy.app.version_string}: {args.people} people x {args.frames} frames, {keys:,} keys "
          f"({CHANNELS_PER_PERSON} curves per person), stand-in bodies")  # fmt: skip
    print(f"{'bulk import, total':<44}{total:9.2f} s")
    print(f"{'  of which keyframes (add + foreach_set)':<44}{keying:9.2f} s   {keys / keying / 1e6:6.2f} M keys/s")
    print(f"{'keyframe_insert, measured':<44}{baseline_seconds:9.2f} s   {args.baseline_people} people, "
          f"{baseline_keys:,} keys, {per_key * 1e6:.1f} us/key")  # fmt: skip
    print(f"{'keyframe_insert, extrapolated to all keys':<44}{per_key * keys:9.2f} s")
    print(f"{'speed-up on keyframes (baseline / bulk)':<44}{per_key * keys / keying:9.1f} x")
    print(f"{'speed-up, whole import vs baseline keys':<44}{per_key * keys / total:9.1f} x")


if __name__ == "__main__":
    main()
