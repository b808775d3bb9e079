"""The clean-up's answer belongs to the people, not to the order they come in.

Segments stitched, a batch's tasks and a server job hand the same people to ``finish`` in different
orders; an animator re-running a clip must get the same characters. Before the floor fit put its points in
one order, the street clip's floor moved by 25 cm and one person split in two when the people came in
reversed (pelvis 34 cm apart at the median).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from inference_server.pipeline.options import CaptureOptions
from inference_server.pipeline.progress import CancelToken
from inference_server.pipeline.run import finish, plan_capture
from inference_server.pipeline.segments import estimate_segment
from tests.helpers.street import STREET, street_recording


@pytest.mark.slow
def test_the_whole_clean_up_gives_the_same_people_whatever_their_order():
    options = CaptureOptions()
    estimated = estimate_segment(STREET, options, whole=True, pose_backend_factory=street_recording().factory)
    assert len(estimated.people) >= 5
    plan = plan_capture(STREET, options)
    given = finish(plan, estimated, None, CancelToken())
    reversed_ = finish(plan, replace(estimated, people=estimated.people[::-1]), None, CancelToken())
    assert reversed_.ground == given.ground
    by_id = {person.id: person for person in reversed_.people}
    assert sorted(by_id) == sorted(person.id for person in given.people)  # split pieces get the same new ids
    for person in given.people:
        other = by_id[person.id]
        np.testing.assert_array_equal(other.frames, person.frames)
        np.testing.assert_allclose(other.transl, person.transl, atol=1e-6)
        np.testing.assert_allclose(other.body_pose, person.body_pose, atol=1e-5)
        np.testing.assert_array_equal(other.frame_quality, person.frame_quality)
