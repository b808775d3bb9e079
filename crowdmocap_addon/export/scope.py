"""Which armatures an export takes (pure): engines want the characters, not the capture's SMPL skeletons.

A scene after a retarget holds three kinds of armature: the captured people, the characters retargeted
from them, and the template rig they were copied from (unanimated). Exporting "everything" hands an
engine all three; ``auto`` takes the characters when there are any, else the people.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.options import EXPORT_SCOPES

CAPTURED, RETARGETED, OTHER = "captured", "retargeted", "other"


class ExportScopeError(ValueError):
    """Nothing to export in the asked scope; the message says what there is."""


def in_scope(kinds: Sequence[str], scope: str) -> list[int]:
    """Indices of the armatures (by kind: captured | retargeted | other) that ``scope`` exports."""
    if scope not in EXPORT_SCOPES:
        raise ExportScopeError(f"export scope must be one of {', '.join(EXPORT_SCOPES)}, got {scope!r}")
    if scope == "all":
        return list(range(len(kinds)))
    wanted = scope if scope != "auto" else (RETARGETED if RETARGETED in kinds else CAPTURED)
    chosen = [index for index, kind in enumerate(kinds) if kind == wanted]
    if not chosen:
        found = ", ".join(f"{kinds.count(kind)} {kind}" for kind in (CAPTURED, RETARGETED, OTHER) if kind in kinds)
        raise ExportScopeError(f"no {wanted} armatures to export (there are {found or 'none'})")
    return chosen
