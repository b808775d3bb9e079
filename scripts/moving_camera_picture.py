"""The picture of a panning capture in docs/cameras.md: the characters seen through the animated camera.

    .venv/bin/python scripts/moving_camera_picture.py [--out docs/images/panning_capture.jpg]

The street clip is filmed again by a virtual camera that pans 8 deg, tilts -2 deg, rolls 2 deg and zooms
1.15x over its 100 frames (``tests/helpers/virtual_camera.py``: every frame an exact homography of the
real one), captured with the 2D stage's recorded poses replayed as that camera sees them, imported into
Blender with the moving footage behind the camera, and rendered through that camera at the first and the
last frame, side by side: the view has turned and zoomed, the characters are still on their people.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demo import colour_people, overlay_still  # noqa: E402 - the sibling script


def panning_capture(folder: Path) -> tuple[Path, Path, int]:
    """The virtual panning clip, its capture's result file, and the clip's frame count."""
    from inference_server.pipeline import CaptureOptions, run_capture
    from tests.helpers.street import STREET, street_recording
    from tests.helpers.virtual_camera import VirtualPoses, eased_move, write_virtual_clip

    camera = eased_move(100, (768, 576), 960.0, pan=8.0, tilt=-2.0, roll=2.0, zoom=1.15)
    clip = write_virtual_clip(STREET, camera, folder / "panning_street.mp4")
    poses = VirtualPoses(street_recording(), camera)
    summary = run_capture(clip, folder / "panning_street.npz", CaptureOptions(), pose_backend_factory=poses.factory)
    return clip, summary.result_path, summary.frames


def main() -> None:
    import bpy
    import cv2
    import numpy as np

    from crowdmocap_addon.scene.build_bpy import import_result

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "panning_capture.jpg")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        clip, result, frames = panning_capture(folder)
        bpy.ops.wm.read_factory_settings(use_empty=True)
        import_result(bpy.context, result, footage=clip)
        scene = bpy.context.scene
        colour_people(scene)
        stills = [cv2.imread(str(overlay_still(scene, clip, frame, folder / f"still_{frame}.png")))
                  for frame in (0, frames - 1)]  # fmt: skip
        gap = np.full((stills[0].shape[0], 12, 3), 255, np.uint8)
        picture = np.concatenate([stills[0], gap, stills[1]], axis=1)
        picture = cv2.resize(picture, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(args.out), picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
