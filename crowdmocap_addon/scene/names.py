"""Names of what an import creates, so the builder, the edits, the tests and the docs agree.

Each capture in a .blend file has a short **label** (its result's file name, made unique), and everything
it creates carries it: ``CrowdMocap_street`` holds ``street_Person_001``, ``street_Person_001_body``… A
second capture of the same clip becomes ``street_2``, so no name ever needs Blender's ``.001`` suffix.
People are numbered 1…N in order of appearance; the tracker's ids stay on the armature as a property.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

MAX_LABEL_LENGTH = 32  # Blender 4.5 names hold 63 bytes: room for "_Person_001_action" and a suffix
_UNSAFE = re.compile(r"[^\w\-]+")


def capture_label(stem: str, taken: Collection[str]) -> str:
    """A label for a new capture: ``stem`` tidied (spaces and punctuation to ``_``, at most 32 characters),
    with ``_2``, ``_3``… added when a capture in the file already has it."""
    base = _UNSAFE.sub("_", stem).strip("_")[:MAX_LABEL_LENGTH] or "capture"
    label, copy = base, 1
    while label in taken:
        copy += 1
        label = f"{base}_{copy}"
    return label


def person_name(label: str, number: int) -> str:
    """``street_Person_007``: zero-padded so people sort by number in the Outliner."""
    return f"{label}_Person_{int(number):03d}"


def body_name(person: str) -> str:
    return f"{person}_body"


def action_name(person: str) -> str:
    return f"{person}_action"


def material_name(person: str) -> str:
    return f"{person}_material"


def collection_name(label: str) -> str:
    return f"CrowdMocap_{label}"


def camera_name(label: str) -> str:
    return f"{collection_name(label)}_camera"


def names_of_capture(label: str, numbers: Sequence[int]) -> list[str]:
    """Every object-level name a capture with these people needs (to check none is taken already)."""
    people = [person_name(label, number) for number in numbers]
    return [collection_name(label), camera_name(label), *people, *(body_name(p) for p in people)]


def appearance_numbers(first_frames: Sequence[int], ids: Sequence[int]) -> list[int]:
    """People's numbers 1…N in order of first appearance (ties by tracker id), in the order given."""
    order = sorted(range(len(ids)), key=lambda i: (int(first_frames[i]), int(ids[i])))
    numbers = [0] * len(ids)
    for rank, index in enumerate(order, start=1):
        numbers[index] = rank
    return numbers
