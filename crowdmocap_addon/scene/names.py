"""Names of what an import creates, so the builder, the tests and the docs agree."""

from __future__ import annotations

from pathlib import Path


def person_name(person_id: int) -> str:
    """``Person_007``: zero-padded so people sort by id in the Outliner."""
    return f"Person_{int(person_id):03d}"


def body_name(person_id: int) -> str:
    return f"{person_name(person_id)}_body"


def collection_name(result_path: str | Path) -> str:
    return f"CrowdMocap_{Path(result_path).stem}"


def camera_name(result_path: str | Path) -> str:
    return f"{collection_name(result_path)}_camera"
