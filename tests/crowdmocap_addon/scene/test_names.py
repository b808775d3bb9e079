"""Names and colours of what an import creates: unique across captures, people numbered by appearance."""

import colorsys
import itertools

from crowdmocap_addon.scene.colours import person_colour
from crowdmocap_addon.scene.names import (
    MAX_LABEL_LENGTH,
    appearance_numbers,
    capture_label,
    names_of_capture,
    person_name,
)


def test_a_capture_label_is_tidy_short_and_unique_in_the_file():
    assert capture_label("street", set()) == "street"
    assert capture_label("street", {"street"}) == "street_2"
    assert capture_label("street", {"street", "street_2"}) == "street_3"
    assert capture_label("my take (final).v2", set()) == "my_take_final_v2"
    assert capture_label("...", set()) == "capture"
    assert len(capture_label("x" * 200, set())) == MAX_LABEL_LENGTH
    longest = person_name(capture_label("x" * 200, {"x" * MAX_LABEL_LENGTH}), 999) + "_body"
    assert len(longest.encode()) <= 63  # Blender 4.5's name limit


def test_people_are_numbered_by_first_appearance_with_ties_by_tracker_id():
    assert appearance_numbers([30, 0, 12, 0], [2, 9, 5, 4]) == [4, 2, 3, 1]
    assert appearance_numbers([], []) == []


def test_every_name_of_a_capture_carries_its_label():
    names = names_of_capture("plaza", [1, 2])
    assert names == ["CrowdMocap_plaza", "CrowdMocap_plaza_camera", "plaza_Person_001", "plaza_Person_002",
                     "plaza_Person_001_body", "plaza_Person_002_body"]  # fmt: skip


def test_people_who_appear_together_get_clearly_different_colours():
    hues = [colorsys.rgb_to_hsv(*person_colour(n)[:3])[0] for n in range(1, 13)]
    for a, b in itertools.combinations(range(12), 2):
        distance = min(abs(hues[a] - hues[b]), 1 - abs(hues[a] - hues[b]))
        assert distance > (0.09 if abs(a - b) == 1 else 0.02), (a + 1, b + 1)
    assert all(0 <= c <= 1 for n in range(1, 50) for c in person_colour(n))
