"""One overall progress figure across the upload, the server's stages and the download (pure)."""

import pytest

from crowdmocap_addon.client.capture_job import STAGE_WEIGHTS, overall_fraction, stage_snapshot


def _running(stage: str, done: int, total: int) -> dict:
    return {"state": "running", "stage": stage, "progress": [{"stage": stage, "done": done, "total": total}]}


def test_the_figure_only_grows_through_a_whole_capture():
    steps = [overall_fraction("uploading", fraction=f) for f in (0.0, 0.5, 1.0)]
    steps.append(overall_fraction("queued"))
    for stage in ("open", "poses", "estimate", "motion", "write"):
        steps += [overall_fraction("running", stage, f) for f in (0.0, 0.5, 1.0)]
    steps += [overall_fraction("downloading"), overall_fraction("done")]
    assert steps == sorted(steps)
    assert steps[0] == 0.0 and steps[-1] == 1.0


def test_stages_count_by_their_weight_and_a_preview_takes_its_share():
    half_poses = overall_fraction("running", "poses", 0.5)
    done_poses = overall_fraction("running", "estimate", 0.0)
    assert done_poses - half_poses == pytest.approx(half_poses - overall_fraction("running", "poses", 0.0))
    end = overall_fraction("running", "write", 1.0)
    assert end == pytest.approx(overall_fraction("downloading"))
    assert overall_fraction("running", "write", 1.0, preview=True) < end  # the preview stage is still to come
    assert overall_fraction("running", "preview", 1.0, preview=True) == pytest.approx(end)


def test_every_server_stage_has_a_weight_in_pipeline_order():
    progress = pytest.importorskip("inference_server.pipeline.progress")
    assert tuple(STAGE_WEIGHTS) == progress.STAGES


def test_the_server_status_becomes_the_panels_line():
    snapshot = stage_snapshot(_running("poses", 30, 120), "job1")
    assert (snapshot.stage, snapshot.fraction) == ("poses", 0.25)
    assert snapshot.overall == pytest.approx(overall_fraction("running", "poses", 0.25))
    assert snapshot.label().startswith("Poses 25% (") and "overall" in snapshot.label()
    queued = stage_snapshot({"state": "queued", "queue_position": 2}, "job2")
    assert queued.message == "Queued (2 job(s) ahead)" and queued.overall == overall_fraction("queued")
