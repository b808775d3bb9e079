"""Which torch device a stage runs on: the one rule that 3DCrowdNet and the temporal fit share."""

from __future__ import annotations

import torch


def resolve_device(device: str = "auto") -> torch.device:
    """ "auto" is the first CUDA device when there is one, else the CPU; asking for CUDA without one is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available here")
    return torch.device(device)
