"""Every user-facing option declared once: name, type, default, bounds or choices, help, where it is shown.

The server's ``CaptureOptions`` and HTTP ``JobOptions``, the CLI's flags, the add-on's panel and scene
properties, its preferences and its retarget operator all take defaults, bounds and help from here, so
adding an option, or changing one, is one edit; ``tests/test_option_parity.py`` checks every surface
against this table (and says which options are kept off which surface, and why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Where an option can be set.
CLI, HTTP, PANEL, PREFERENCES = "cli", "http", "panel", "preferences"


@dataclass(frozen=True, kw_only=True)
class Option:
    """One option and its surfaces; ``minimum``/``maximum`` are inclusive, ``choices`` close a str option."""

    name: str
    kind: type
    default: Any
    label: str
    help: str
    surfaces: frozenset[str]
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not allowed, or None."""
        if self.choices and value not in self.choices:
            return f"{self.name} must be one of {', '.join(self.choices)}, got {value!r}"
        if self.minimum is not None and value < self.minimum:
            return f"{self.name} must be >= {self.minimum:g}, got {value}"
        if self.maximum is not None and value > self.maximum:
            return f"{self.name} must be <= {self.maximum:g}, got {value}"
        return None


def _table(*options: Option) -> dict[str, Option]:
    return {option.name: option for option in options}


POSE_BACKENDS = ("auto", "blazepose", "rtmo", "rtmpose")
ESTIMATORS = ("auto", "lift", "crowdnet")
PRECISIONS = ("fp32", "bf16", "fp16")
MAX_ROIS = 9
DEFAULT_SMOOTHING = 1.0
_EVERYWHERE = frozenset({CLI, HTTP, PANEL, PREFERENCES})
_SERVER_SIDE = frozenset({CLI, HTTP})

# Capture options that the CLI, the HTTP API and (some) the panel share. Paths, the device and the focal
# length's several forms are declared by the CLI alone (``inference_server/cli_process.py``): they are
# the server machine's own, or the panel has its own focal-mode switch.
CAPTURE_OPTIONS = _table(
    Option(name="pose_backend", kind=str, default="auto", choices=POSE_BACKENDS, label="2D poses",
           help="auto: BlazePose for the lift estimator, else RTMO when its model is present", surfaces=_EVERYWHERE),
    Option(name="estimator", kind=str, default="auto", choices=ESTIMATORS, label="3D bodies",
           help="auto: 3DCrowdNet when its checkpoint is found, else the weights-free lift", surfaces=_EVERYWHERE),
    Option(name="min_track_length", kind=int, default=10, minimum=1, label="Min track",
           help="observed frames a person needs to be kept", surfaces=_EVERYWHERE),
    Option(name="relink", kind=bool, default=True, label="Re-link after occlusions",
           help="join the pieces of one person's track across occlusions of up to 3 s, by position, speed and "
                "clothing colour, after cutting tracks where the clothing changes (turn off if two people get "
                "merged)", surfaces=_EVERYWHERE),
    # Measured on the street clips with the landmark network (docs/poses2d.md): a little fewer people found
    # and more identity mix-ups at groups than without, so off by default; it helps where the detector
    # misses people often (test: a detector blind on every other frame).
    Option(name="tracked_regions", kind=bool, default=False, label="Look where tracked people should be",
           help="also run the pose model where each tracked person is expected in the next frame",
           surfaces=_SERVER_SIDE),
    # A tripod clip measures exactly still with it on (docs/cameras.md); it costs about 23 ms a frame on 2 cores.
    Option(name="still_camera", kind=bool, default=False, label="Still camera",
           help="the camera stood still (a tripod): do not measure its turn and zoom from the background",
           surfaces=_EVERYWHERE),
    Option(name="smoothing", kind=float, default=DEFAULT_SMOOTHING, minimum=0.0, maximum=10.0, label="Smoothing",
           help="0 turns smoothing off, 1 is the default, larger is smoother", surfaces=_EVERYWHERE),
    Option(name="foot_lock", kind=bool, default=True, label="Lock feet",
           help="hold each foot still while it touches the ground (leg IK)", surfaces=_EVERYWHERE),
    Option(name="ground_feet", kind=bool, default=True, label="Feet on the floor",
           help="stand each person's planted foot on the fitted floor (turn off for footage of jumps)",
           surfaces=_EVERYWHERE),
    Option(name="fix_facing", kind=bool, default=True, label="Fix front/back flips",
           help="mirror back frames where a walker faces against their walk (turn off for someone really "
                "walking backwards)", surfaces=_EVERYWHERE),
    # Measured (docs/motion.md): on the street clip implausible person-frames 21 % -> 0.9 %, peak pelvis speed
    # 39 -> 4.1 m/s, reprojection 4.0 -> 3.4 px; on synthetic crowds every error smaller than the chain's.
    Option(name="temporal_fit", kind=bool, default=True, label="Fit whole motion",
           help="solve each person's whole motion at once against the 2D keypoints and the floor (feet planted "
                "and still, smooth, no backward knees); replaces foot locking", surfaces=_EVERYWHERE),
    Option(name="fit_smoothness", kind=float, default=1.0, minimum=0.0, maximum=10.0, label="Fit smoothness",
           help="strength of the whole-motion fit's smoothness prior (0 off, 1 default)", surfaces=_EVERYWHERE),
    # Held on every pair of frames (docs/motion.md): 4 m/s is above a brisk walk and below a run.
    Option(name="top_speed", kind=float, default=4.0, minimum=1.0, maximum=15.0, label="Top speed (m/s)",
           help="fastest a person may move in the whole-motion fit; raise it for footage of runners or sports",
           surfaces=_EVERYWHERE),
    Option(name="rois", kind=int, default=1, minimum=1, maximum=MAX_ROIS, label="RoIs",
           help="Multi-RoI crops per person for 3DCrowdNet", surfaces=_SERVER_SIDE),
    Option(name="batch_size", kind=int, default=None, minimum=1, maximum=4096, label="Batch",
           help="3DCrowdNet crops per call; unset picks one for the device", surfaces=_SERVER_SIDE),
    Option(name="precision", kind=str, default="fp32", choices=PRECISIONS, label="Precision",
           help="3DCrowdNet autocast precision", surfaces=_SERVER_SIDE),
)  # fmt: skip

# Options of how a capture is brought into Blender (not sent to the server).
SCENE_OPTIONS = _table(
    Option(name="ground_align", kind=bool, default=True, label="Align to ground",
           help="Put the floor at Z = 0 when the capture finds one", surfaces=frozenset({PANEL, PREFERENCES})),
)  # fmt: skip

# Retarget options: the panel's settings and the operator (and the headless command) share these defaults.
RETARGET_OPTIONS = _table(
    # One default everywhere (panel, operator, retarget(), --per-person/--no-per-person): a copy per person.
    Option(name="duplicate_per_person", kind=bool, default=True, label="Duplicate target per person",
           help="One copy of the rig (armature and its meshes) per selected person, named after them",
           surfaces=frozenset({PANEL, CLI})),
    Option(name="foot_pin", kind=bool, default=True, label="Pin feet",
           help="Hold feet where the capture says they touch the ground (leg IK)", surfaces=frozenset({PANEL, CLI})),
    Option(name="blend_frames", kind=int, default=4, minimum=0, maximum=30, label="Blend",
           help="Frames over which a foot pin fades in and out", surfaces=frozenset({PANEL, CLI})),
)  # fmt: skip


# Export options: the Export crowd operator and ``crowdmocap-blender export`` share these defaults.
EXPORT_SCOPES = ("auto", "retargeted", "captured", "all")
EXPORT_OPTIONS = _table(
    Option(name="scope", kind=str, default="auto", choices=EXPORT_SCOPES, label="Export",
           help="which armatures: auto = the retargeted characters when there are any, else the captured people; "
                "retargeted, captured, or all armatures (template rigs too)", surfaces=frozenset({PANEL, CLI})),
    Option(name="start_at_origin", kind=bool, default=True, label="Start at origin",
           help="each person's file starts at the origin facing forward (a game clip); off keeps their place in "
                "the scene (crowd replacement over the footage). One file for the crowd always keeps places",
           surfaces=frozenset({PANEL, CLI})),
)  # fmt: skip


def on(surface: str, table: dict[str, Option]) -> dict[str, Option]:
    """The options of ``table`` shown on ``surface``."""
    return {name: option for name, option in table.items() if surface in option.surfaces}
