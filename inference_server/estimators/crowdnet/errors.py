"""Errors of the 3DCrowdNet files, importable without torch (the CLI reports them)."""

from __future__ import annotations

from pathlib import Path


class CheckpointError(Exception):
    """A 3DCrowdNet file is missing, unreadable or does not match the network."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    pass


class CheckpointMismatchError(CheckpointError):
    """The checkpoint's tensors do not match the network; lists every offending key."""

    def __init__(self, source: Path, missing: list[str], unexpected: list[str], mismatched: list[str]) -> None:
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched
        parts = [f"{source} does not match 3DCrowdNet's network:"]
        parts += [f"  missing key: {key}" for key in missing]
        parts += [f"  unexpected key: {key}" for key in unexpected]
        parts += [f"  shape mismatch: {line}" for line in mismatched]
        super().__init__("\n".join(parts))
