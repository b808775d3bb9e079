"""What a fetched ONNX file must look like for its backend (``poses2d/onnx_models.py``) to run it.

Archives with no pinned digest cannot be checked byte for byte, so a fetch checks what it can: the graph's
inputs and outputs. Each check takes the (input shapes, output shapes) onnxruntime reports and returns the
problems found, empty when the model fits.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Shapes = list[list]  # one list of dims (int or a symbolic name) per input or output
SignatureCheck = Callable[[Shapes, Shapes], list[str]]


def read_signature(model: Path) -> tuple[Shapes, Shapes]:
    """(input shapes, output shapes) of an ONNX file, as onnxruntime loads it."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return [list(i.shape) for i in session.get_inputs()], [list(o.shape) for o in session.get_outputs()]


def _image_input(inputs: Shapes) -> list[str]:
    if len(inputs) != 1 or len(inputs[0]) != 4 or not all(isinstance(d, int) for d in inputs[0][1:]):
        return [f"expected one fixed (1, 3, H, W) image input, found {inputs}"]
    return [] if inputs[0][1] == 3 else [f"expected 3 input channels, found {inputs[0]}"]


def rtmo(inputs: Shapes, outputs: Shapes) -> list[str]:
    """RTMO: dets (1, N, 5) and keypoints (1, N, 17, 3)."""
    fits = len(outputs) == 2 and len(outputs[0]) == 3 and outputs[0][-1] == 5
    fits = fits and len(outputs[1]) == 4 and outputs[1][-2:] == [17, 3]
    problem = f"expected dets (1, N, 5) and keypoints (1, N, 17, 3); found {outputs}"
    return _image_input(inputs) + ([] if fits else [problem])


def rtmpose(inputs: Shapes, outputs: Shapes) -> list[str]:
    """RTMPose: SimCC simcc_x (1, 17, 2w) and simcc_y (1, 17, 2h)."""
    fits = len(outputs) >= 2 and all(len(o) == 3 and o[1] == 17 for o in outputs[:2])
    return _image_input(inputs) + ([] if fits else [f"expected simcc_x/simcc_y (1, 17, L); found {outputs}"])


def person_detector(inputs: Shapes, outputs: Shapes) -> list[str]:
    """YOLOX: the end-to-end export (dets (1, N, 5), labels (1, N)) or a raw head (1, A, 5 + C)."""
    end2end = len(outputs) >= 2 and len(outputs[0]) == 3 and outputs[0][-1] == 5 and len(outputs[1]) == 2
    raw = len(outputs) >= 1 and len(outputs[0]) == 3 and isinstance(outputs[0][-1], int) and outputs[0][-1] > 5
    fits = end2end or raw
    return _image_input(inputs) + ([] if fits else [f"expected dets + labels or a raw YOLOX head; found {outputs}"])
