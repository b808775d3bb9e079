"""The one full-image camera every person of a capture is placed in.

A pinhole camera with OpenCV axes and its principal point at the image centre. The focal length comes
from the user, in whichever form they know it, else defaults to the image diagonal sqrt(W^2 + H^2)
(about 53 degrees diagonal field of view, a typical phone or action-camera lens).
"""

from __future__ import annotations

import math

from crowdmocap_addon.core.result.schema import PinholeCamera


class CameraSpecError(ValueError):
    """The focal length was given inconsistently or out of range."""


def focal_length_px(
    width: int,
    height: int,
    *,
    focal_px: float | None = None,
    focal_mm: float | None = None,
    sensor_width_mm: float | None = None,
    fov_deg: float | None = None,
) -> float:
    """The focal length in pixels from exactly one of: pixels; millimetres + sensor width; horizontal FOV."""
    given = [v is not None for v in (focal_px, focal_mm, fov_deg)]
    if sum(given) > 1:
        raise CameraSpecError("give the focal length one way only: pixels, millimetres + sensor width, or FOV")
    if focal_px is not None:
        focal = float(focal_px)
    elif focal_mm is not None:
        if sensor_width_mm is None or not sensor_width_mm > 0:
            raise CameraSpecError("a focal length in millimetres needs the sensor width in millimetres too")
        focal = float(focal_mm) / float(sensor_width_mm) * width
    elif fov_deg is not None:
        if not 0 < fov_deg < 180:
            raise CameraSpecError(f"horizontal field of view must be between 0 and 180 degrees, got {fov_deg}")
        focal = width / 2 / math.tan(math.radians(fov_deg) / 2)
    else:
        focal = math.hypot(width, height)
    if not (math.isfinite(focal) and focal > 0):
        raise CameraSpecError(f"focal length must be a positive number, got {focal}")
    return focal


def full_image_camera(width: int, height: int, **focal: float | None) -> PinholeCamera:
    """The capture's camera: principal point at the image centre, focal from ``focal_length_px``."""
    return PinholeCamera(focal_px=focal_length_px(width, height, **focal), principal_point=(width / 2, height / 2))
