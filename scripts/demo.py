"""The main job on the embedded defaults: a real crowd clip in, animated characters in Blender and FBX files out.

    .venv/bin/python scripts/demo.py [--out demo_out] [--stop N]     (what `make demo` runs)

Writes to the output folder: the result file, a preview video of the footage with skeletons and track
ids, a .blend with every tracked person as an animated character and the matching camera with the
footage, one FBX per person (Unity preset), and two rendered stills of the Blender scene: the
characters over the footage as the camera saw them, and the crowd seen from above and aside.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"


@dataclass(kw_only=True, frozen=True)
class DemoOutputs:
    result: Path
    preview: Path
    blend: Path
    fbx: list[Path]
    still_overlay: Path
    still_crowd: Path
    people: int
    frames: int


def capture(clip: Path, out: Path, stop: int | None, min_track_length: int, models: Path | None = None):
    from inference_server.cli_process import TerminalProgress
    from inference_server.pipeline import CaptureOptions, run_capture

    options = CaptureOptions(stop=stop, min_track_length=min_track_length,
                             models_dir=None if models is None else str(models))  # fmt: skip
    summary = run_capture(clip, out / f"{clip.stem}.npz", options, preview=out / f"{clip.stem}_preview.mp4",
                          progress=TerminalProgress())  # fmt: skip
    print(file=sys.stderr)
    return summary


def colour_people(scene) -> None:
    """Each body in its track's colour from the preview video, so the stills and the preview match."""
    from inference_server.preview.overlay import track_colour

    for armature in (o for o in scene.objects if o.type == "ARMATURE"):
        rgb = track_colour(int(armature.get("crowdmocap_person_id", 0)))
        for child in armature.children:
            child.color = (*(c / 255 for c in rgb), 1.0)
    shading = scene.display.shading
    shading.light, shading.color_type, shading.show_shadows = "STUDIO", "OBJECT", True


def render_still(scene, path: Path) -> Path:
    """Workbench (fast, no GPU needed); Cycles on CPU where Workbench cannot get an OpenGL context."""
    import bpy

    scene.render.filepath = str(path)
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGBA"
    try:
        scene.render.engine = "BLENDER_WORKBENCH"
        bpy.ops.render.render(write_still=True)
    except RuntimeError:
        scene.render.engine = "CYCLES"
        scene.cycles.device, scene.cycles.samples = "CPU", 8
        bpy.ops.render.render(write_still=True)
    return path


def open_footage_frames(clip: Path, first: int):
    """RGB frames of ``clip`` from ``first`` on."""
    from inference_server.footage import open_footage

    return (f.image for f in open_footage(clip).frames(start=first))


def overlay_still(scene, clip: Path, frame: int, out: Path) -> Path:
    """The characters rendered through the capture camera, laid over the footage frame they came from."""
    import cv2
    import numpy as np

    scene.render.film_transparent = True
    scene.frame_set(frame + 1)  # video frame f is scene frame f + 1
    layer = cv2.imread(str(render_still(scene, out.with_name(out.stem + "_layer.png"))), cv2.IMREAD_UNCHANGED)
    image = next(open_footage_frames(clip, frame))[..., ::-1]  # BGR like cv2
    alpha = layer[..., 3:4].astype(np.float32) / 255 * 0.85
    blended = image * (1 - alpha) + layer[..., :3] * alpha
    cv2.imwrite(str(out), blended.astype(np.uint8))
    out.with_name(out.stem + "_layer.png").unlink()
    return out


def crowd_still(scene, out: Path) -> Path:
    """The crowd from above and aside, with the floor: shows that everyone stands in one consistent 3D scene."""
    import bpy
    import numpy as np

    people = [o for o in scene.objects if o.type == "ARMATURE"]
    heads = np.array([(o.matrix_world @ o.pose.bones["pelvis"].head) for o in people])
    centre, extent = heads.mean(axis=0), max(float(np.ptp(heads[:, :2], axis=0).max()), 4.0)
    bpy.ops.mesh.primitive_plane_add(size=extent * 3, location=(centre[0], centre[1], 0.0))
    bpy.context.active_object.color = (0.55, 0.55, 0.52, 1.0)
    world = scene.world or bpy.data.worlds.new("DemoWorld")
    scene.world, world.color = world, (0.08, 0.09, 0.11)
    data = bpy.data.cameras.new("DemoView")
    view = bpy.data.objects.new("DemoView", data)
    scene.collection.objects.link(view)
    data.lens = 30
    view.location = (centre[0] + extent * 1.2, centre[1] - extent * 1.2, extent * 1.1)
    direction = np.array([centre[0], centre[1], 0.8]) - np.array(view.location)
    view.rotation_euler = (math.atan2(math.hypot(direction[0], direction[1]), -direction[2]), 0.0,
                           math.atan2(direction[1], direction[0]) - math.pi / 2)  # fmt: skip
    scene.camera, scene.render.film_transparent = view, False
    return render_still(scene, out)


def blender_scene(result: Path, clip: Path, out: Path, frame: int):
    """Import the result into Blender, save the .blend, export FBX per person, render the stills."""
    import bpy

    from crowdmocap_addon.export.export_bpy import export_people, people_in
    from crowdmocap_addon.export.presets import find_preset
    from crowdmocap_addon.scene.build_bpy import import_result

    bpy.ops.wm.read_factory_settings(use_empty=True)
    imported = import_result(bpy.context, result)
    blend = out / f"{result.stem}.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    fbx = export_people(bpy.context, people_in(imported.collection), find_preset("unity"), out / "fbx",
                        capture_name=result.stem)  # fmt: skip
    scene = bpy.context.scene
    scene.render.resolution_percentage = 100
    colour_people(scene)
    overlay = overlay_still(scene, clip, frame, out / f"{result.stem}_still_camera.png")
    crowd = crowd_still(scene, out / f"{result.stem}_still_crowd.png")
    return blend, fbx, overlay, crowd


def run_demo(out: Path, *, clip: Path = STREET, stop: int | None = None, min_track_length: int = 10,
             models: Path | None = None) -> DemoOutputs:  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"1/2 capturing everyone in {clip.name} (people, 2D poses, tracks, weights-free 3D) ...")
    summary = capture(clip, out, stop, min_track_length, models)
    for warning in summary.warnings:
        print(f"    warning: {warning}")
    print(f"    {summary.people} people over {summary.frames} frames in {summary.seconds:.0f} s")
    print("2/2 building the Blender scene, exporting FBX, rendering stills ...")
    middle = (stop or summary.frames) // 2
    blend, fbx, overlay, crowd = blender_scene(summary.result_path, clip, out, middle)
    outputs = DemoOutputs(result=summary.result_path, preview=summary.preview_path, blend=blend, fbx=fbx,
                          still_overlay=overlay, still_crowd=crowd, people=summary.people,
                          frames=summary.frames)  # fmt: skip
    print(f"\nDone in {time.monotonic() - started:.0f} s. In {out}/:")
    for label, path in (
        ("result file (open in Blender: File > Import > CrowdMocap result)", outputs.result),
        ("preview video: footage with skeletons and track ids", outputs.preview),
        ("Blender scene: animated characters, camera with the footage", outputs.blend),
        ("stills rendered from the scene", outputs.still_overlay),
        ("", outputs.still_crowd),
    ):
        print(f"  {path.relative_to(out.parent) if path.is_relative_to(out.parent) else path}  {label}")
    print(f"  {out.name}/fbx/  one FBX per person, Unity preset ({len(fbx)} files)")
    print("\nNext: better models. `crowdmocap-server models` lists them; `crowdmocap-server models fetch rtmo-l` gets "
          "the RTMO crowd pose model; the 3DCrowdNet checkpoint and the SMPL model (non-commercial licences) are "
          "downloaded by you from their authors (docs/getting-started.md).")  # fmt: skip
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "demo_out", help="output folder (default demo_out/)")
    parser.add_argument("--clip", type=Path, default=STREET, help="footage (default: the shared street clip)")
    parser.add_argument("--stop", type=int, help="process only the first N frames")
    parser.add_argument("--min-track-length", type=int, default=10)
    args = parser.parse_args()
    run_demo(args.out.resolve(), clip=args.clip, stop=args.stop, min_track_length=args.min_track_length)


if __name__ == "__main__":
    main()
