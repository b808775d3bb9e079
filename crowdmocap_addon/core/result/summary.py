"""What a result file holds, as lines of text: the one summary both command lines print (``info``)."""

from __future__ import annotations

import numpy as np

from .schema import QUALITY_NAMES, CaptureResult


def summary_lines(result: CaptureResult, source: str) -> list[str]:
    """The video, camera, body model and pipeline, then each person's frames and per-frame quality."""
    video, camera = result.video, result.camera
    lines = [
        f"{source}: format {result.version[0]}.{result.version[1]}, {len(result.people)} people, "
        f"{sum(p.num_frames for p in result.people)} person-frames",
        f"  video {video.path} {video.width}x{video.height} @ {video.fps:g} fps, {video.frame_count} frames",
        f"  camera focal {camera.focal_px:.1f} px, principal point {camera.principal_point}; "
        f"floor {'found' if result.ground is not None else 'not found'}",
        f"  body model {result.body_model.kind} ({result.body_model.gender}), "
        f"estimator {result.pipeline.estimator}, 2D poses {result.pipeline.pose_backend}",
    ]
    for person in result.people:
        counts = np.bincount(person.frame_quality, minlength=len(QUALITY_NAMES))
        quality = ", ".join(f"{int(n)} {name}" for n, name in zip(counts, QUALITY_NAMES, strict=True))
        lines.append(f"  person {person.id}: frames {int(person.frames[0])}..{int(person.frames[-1])} "
                     f"({person.num_frames}: {quality})")  # fmt: skip
    return lines
