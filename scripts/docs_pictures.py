"""Make the pictures in docs/images/ from the real pipeline, so none is drawn by hand.

    .venv/bin/python scripts/docs_pictures.py [--frames 40]

Runs the demo on the first frames of the street clip and keeps: the characters over the footage as the
capture camera saw them, the crowd from above, a frame of the preview video with skeletons and track ids,
and one captured person retargeted onto a Mixamo-named character (``retarget_picture.py``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMAGES = REPO / "docs" / "images"
JPEG_QUALITY = 85

from demo import run_demo  # noqa: E402 - the sibling script; run as `python scripts/docs_pictures.py`
from retarget_picture import retarget_picture  # noqa: E402


def _save(image, name: str) -> Path:
    import cv2

    path = IMAGES / name
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    print(f"wrote {path}")
    return path


def main() -> None:
    import av
    import cv2

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        out = run_demo(Path(folder) / "demo_out", stop=args.frames, min_track_length=5)
        _save(cv2.imread(str(out.still_overlay)), "demo_camera.jpg")
        _save(cv2.imread(str(out.still_crowd)), "demo_crowd.jpg")
        with av.open(str(out.preview)) as video:
            frames = [f.to_ndarray(format="bgr24") for f in video.decode(video=0)]
        _save(frames[len(frames) // 2], "preview_tracks.jpg")
        print(f"wrote {retarget_picture(out.blend, IMAGES / 'retarget_mixamo.jpg')}")


if __name__ == "__main__":
    main()
