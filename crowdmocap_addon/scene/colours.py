"""One colour per person, so people standing together can be told apart in the viewport.

Hues step by the golden angle, so consecutive numbers (people who appear together) are far apart on the
colour wheel and no two of the first dozen are close; saturation and value stay mid-range so the stand-in
body's shading still reads.
"""

from __future__ import annotations

import colorsys

GOLDEN_FRACTION = 0.618033988749895
_SATURATION, _VALUE = 0.55, 0.85


def person_colour(number: int) -> tuple[float, float, float, float]:
    """RGBA in 0–1 (sRGB-ish, for display) of person ``number`` (1-based)."""
    hue = (0.08 + (int(number) - 1) * GOLDEN_FRACTION) % 1.0
    red, green, blue = colorsys.hsv_to_rgb(hue, _SATURATION, _VALUE)
    return red, green, blue, 1.0
