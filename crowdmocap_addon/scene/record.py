"""The scene's record of a capture: custom properties on its collection and on each person's armature.

They travel with the .blend file, need no registered add-on to read (the headless tools import without
one), and are what the People tools, retargeting and export go by: an edit that rewrites them is seen by
everything after it. Documented in docs/blender-scene.md.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..people.motion import PersonSummary

# On the capture's collection
CAPTURE_LABEL = "crowdmocap_label"  # the capture's label, the prefix of its names (scene/names.py)
CAPTURE_RESULT = "crowdmocap_result"  # the result file it was imported from
CAPTURE_FOOTAGE = "crowdmocap_footage"  # the footage behind its camera, "" when none was found

# On each person's armature object
PERSON_ID = "crowdmocap_person_id"  # the tracker's id in the result (of the first fragment, after a merge)
PERSON_TRACKS = "crowdmocap_track_ids"  # every result id merged into this person, "2+13"
PERSON_NUMBER = "crowdmocap_number"  # 1…N in order of appearance within the capture
PERSON_CAPTURE = "crowdmocap_capture"  # the label of the capture the person belongs to
PERSON_SUMMARY = "crowdmocap_summary"  # the People list's row: see people.motion.PersonSummary

# On each character a retarget animated
RETARGET_SOURCE = "crowdmocap_retarget_of"  # the name of the person whose motion it carries
RETARGET_TEMPLATE = "crowdmocap_retarget_template"  # on a per-person copy: the rig it was copied from


def store_summary(person: Any, summary: PersonSummary) -> None:
    """Write the People list's row onto the person's armature (any object taking item assignment)."""
    person[PERSON_SUMMARY] = asdict(summary)


def stored_summary(person: Any) -> PersonSummary | None:
    """The row stored on the armature, or None when it is missing or not one (an older import, a hand edit)."""
    stored = person.get(PERSON_SUMMARY)
    try:
        values = {name: stored[name] for name in PersonSummary.__dataclass_fields__}
    except (KeyError, TypeError):
        return None
    return PersonSummary(**values)
