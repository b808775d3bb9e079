"""The People tools' maths: summaries, flagged stretches, split and merge of a person's keyed motion."""

import numpy as np
import pytest

from crowdmocap_addon.core.geometry import axis_angle_to_quaternion
from crowdmocap_addon.core.result.schema import QUALITY_FILLED, QUALITY_OBSERVED, QUALITY_REPAIRED
from crowdmocap_addon.people.motion import (
    PersonEditError,
    PersonMotion,
    flag_runs,
    merge,
    next_flagged_frame,
    split,
    summarise,
)


def walker(frames, speed=0.04, seed=0, quality=None, implausible=None) -> PersonMotion:
    """A person walking along +x at ``speed`` m per frame, every joint turning slowly."""
    frames = np.asarray(frames, dtype=np.int64)
    rng = np.random.default_rng(seed)
    axis = rng.normal(size=(24, 3))
    turns = frames[:, None, None] * 0.01 * axis[None]
    count = len(frames)
    return PersonMotion(
        frames=frames,
        rotations=axis_angle_to_quaternion(turns),
        pelvis=np.stack([frames * speed, np.zeros(count), np.full(count, 0.9)], axis=1),
        confidence=np.full(count, 0.8),
        contact=np.full((count, 2), 0.5),
        quality=np.zeros(count, np.uint8) if quality is None else np.asarray(quality, np.uint8),
        implausible=np.zeros(count, bool) if implausible is None else np.asarray(implausible, bool),
    )


def test_the_summary_counts_observed_confidence_and_every_kind_of_flag():
    quality = [0, 0, 1, 1, 0, 2, 0, 0, 0, 0]
    implausible = [0, 0, 0, 0, 0, 0, 0, 1, 1, 0]
    motion = walker(np.arange(10, 20), quality=quality, implausible=implausible)
    motion = PersonMotion(**{**motion.__dict__, "confidence": np.where(np.array(quality) == 1, 0.0, 0.5)})
    summary = summarise(motion)
    assert (summary.first, summary.last, summary.frames) == (10, 19, 10)
    assert summary.observed_share == pytest.approx(0.7)
    assert summary.mean_confidence == pytest.approx(0.5)  # over the observed frames only
    assert summary.flagged == 5
    runs = flag_runs(motion)
    assert [(r.kind, r.first, r.last, r.frames) for r in runs] == [
        ("filled", 12, 13, 2), ("repaired", 15, 15, 1), ("implausible", 17, 18, 2)]  # fmt: skip


def test_jumping_between_flagged_stretches_goes_one_stretch_at_a_time():
    quality = [0, 1, 1, 1, 0, 0, 1, 0]
    motion = walker(np.arange(1, 9), quality=quality)  # flagged runs start at 2 and 7
    assert next_flagged_frame(motion, 1) == 2
    assert next_flagged_frame(motion, 2) == 7  # inside a run: on to the next one
    assert next_flagged_frame(motion, 3) == 7
    assert next_flagged_frame(motion, 7) is None
    assert next_flagged_frame(motion, 8, forward=False) == 7
    assert next_flagged_frame(motion, 4, forward=False) == 2  # inside a run: to its start
    assert next_flagged_frame(motion, 2, forward=False) is None


def test_split_keeps_every_frame_once_and_refuses_an_empty_part():
    motion = walker(np.arange(5, 15))
    before, after = split(motion, 9)
    np.testing.assert_array_equal(before.frames, np.arange(5, 9))
    np.testing.assert_array_equal(after.frames, np.arange(9, 15))
    np.testing.assert_array_equal(np.concatenate([before.pelvis, after.pelvis]), motion.pelvis)
    for frame in (5, 3, 15, 40):
        with pytest.raises(PersonEditError, match="one part empty"):
            split(motion, frame)


def test_merge_bridges_a_gap_smoothly_flagged_and_continues_the_walk():
    whole = walker(np.arange(0, 60, 2), speed=0.05)  # a capture at stride 2
    first = whole.select(whole.frames < 20)
    second = whole.select(whole.frames >= 40)  # hidden for frames 20-38
    merged = merge(second, first)  # either order
    np.testing.assert_array_equal(merged.frames, whole.frames)
    gap = (merged.frames >= 20) & (merged.frames < 40)
    assert np.all(merged.quality[gap] == QUALITY_FILLED) and np.all(merged.quality[~gap] == QUALITY_OBSERVED)
    assert np.all(merged.confidence[gap] == 0) and np.all(merged.confidence[~gap] == 0.8)
    # A steady walk is bridged exactly by the cubic through both ends' velocities.
    np.testing.assert_allclose(merged.pelvis, whole.pelvis, atol=1e-9)
    # Joints blend from one end to the other along the shorter way, with no step.
    dots = np.abs(np.sum(merged.rotations[1:] * merged.rotations[:-1], axis=-1))
    assert dots.min() > 0.99
    np.testing.assert_allclose(np.linalg.norm(merged.rotations, axis=-1), 1.0, atol=1e-12)


def test_merge_moves_the_later_fragment_by_the_rest_offset_and_takes_the_handover_frame_from_it():
    first = walker(np.arange(0, 11))
    second = walker(np.arange(10, 20), quality=np.full(10, QUALITY_REPAIRED))
    offset = np.array([0.01, -0.02, 0.03])  # the second armature's rest pelvis is elsewhere
    merged = merge(first, second, later_offset=offset)
    np.testing.assert_array_equal(merged.frames, np.arange(0, 20))
    assert merged.quality[10] == QUALITY_REPAIRED  # frame 10 came from the second fragment
    np.testing.assert_allclose(merged.pelvis[10:], second.pelvis + offset)
    np.testing.assert_allclose(merged.pelvis[:10], first.pelvis[:10])


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (np.arange(0, 30), np.arange(10, 20)),
        (np.arange(5, 30), np.arange(5, 40)),
        (np.arange(0, 30), np.arange(26, 40)),
    ],
    ids=["inside", "same-start", "four-frames-together"],
)
def test_two_people_seen_at_the_same_time_are_never_merged(first, second):
    with pytest.raises(PersonEditError, match="two people"):
        merge(walker(first), walker(second))
