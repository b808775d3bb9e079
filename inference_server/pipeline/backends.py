"""Open the planned 2D pose backend and 3D estimator (the only place the real ones are constructed).

``run_capture`` takes both openers as parameters (``PoseBackendFactory``, ``EstimatorFactory``) with
these as the defaults, so callers such as tests can hand it other backends without patching modules.
"""

from __future__ import annotations

from collections.abc import Callable

from crowdmocap_addon.core.body.smpl_file import SmplModelData

from ..estimators.crowdnet.checkpoint import load_crowdnet
from ..estimators.crowdnet.predictor import CrowdNetPredictor
from ..poses2d.types import PoseBackend
from .model_plan import ModelPlan
from .options import CaptureOptions

# The smallest frame (width, height) each backend's native code may be given. Below it nobody can be found
# (BlazePose's HOG proposals need their 64x128 window to fit), and MediaPipe and OpenCV crash on such
# frames (a segfault on a 40x40 video, a heap error on a 1x1 GIF) instead of raising.
MIN_FRAME_SIZE = {"blazepose": (64, 128), "rtmo": (32, 32), "rtmpose": (32, 32)}

PoseBackendFactory = Callable[[ModelPlan], PoseBackend]
"""Opens the 2D pose backend the plan names; the pipeline closes it when the frames are done."""
EstimatorFactory = Callable[[ModelPlan, CaptureOptions], tuple[CrowdNetPredictor, SmplModelData]]
"""Opens the 3DCrowdNet predictor and its SMPL model, when the plan's estimator is ``crowdnet``."""


def frame_too_small(backend: str, width: int, height: int) -> str | None:
    """Why frames of ``width`` x ``height`` cannot go to ``backend``, or None when they can."""
    min_width, min_height = MIN_FRAME_SIZE.get(backend, (1, 1))
    if width >= min_width and height >= min_height:
        return None
    return (f"frames are {width}x{height} pixels, smaller than the {min_width}x{min_height} the {backend} "
            "pose backend needs (people must be at least that big to be found)")  # fmt: skip


def open_pose_backend(plan: ModelPlan) -> PoseBackend:
    """The real backend ``plan.pose_backend`` names (BlazePose top-down, RTMO or RTMPose)."""
    if plan.pose_backend == "blazepose":
        from ..poses2d.blazepose import BlazePoseTopDown

        # NanoDet-g proposals (else HOG) and the ONNX landmark network on each box (else MediaPipe's solution)
        return BlazePoseTopDown(detector=plan.detector_model, landmarks=plan.landmark_model)
    from ..poses2d.onnx_models import RtmoBackend, RtmPoseBackend

    if plan.pose_backend == "rtmo":
        return RtmoBackend(plan.pose_model)
    return RtmPoseBackend(plan.pose_model, plan.detector_model)


def open_crowdnet(plan: ModelPlan, options: CaptureOptions) -> tuple[CrowdNetPredictor, SmplModelData]:
    """The predictor and the SMPL model it uses (from the user's file or the checkpoint's buffers)."""
    network, smpl, _ = load_crowdnet(plan.checkpoint, smpl=plan.smpl_model, vposer=plan.vposer)
    predictor = CrowdNetPredictor(
        network=network, smpl=smpl, device=options.device, batch_size=options.batch_size,
        precision=options.precision, rois=options.rois,
    )  # fmt: skip
    return predictor, smpl
