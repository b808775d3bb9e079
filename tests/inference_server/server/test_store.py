"""The job store: atomic state files, recovery after a crash or restart, queue order and positions."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from inference_server.server import atomic
from inference_server.server.ids import is_valid_id, new_id
from inference_server.server.job_files import JOB_FILE, JobFiles, JobNotFoundError
from inference_server.server.job_record import JobFailure, JobOutcome, JobRecord, StageProgress
from inference_server.server.store import JobStore


def _create(store: JobStore, name: str = "clip.avi") -> str:
    job_id = new_id()
    store.job_dir(job_id).mkdir()
    store.create(job_id, source_kind="upload", source_name=name, input_path=Path("/x") / name, options={"stop": 5})
    return job_id


def _on_disk(store: JobStore, job_id: str) -> dict:
    return json.loads((store.jobs_dir / job_id / JOB_FILE).read_text())


def test_ids_are_unguessable_and_checked_before_use(tmp_path):
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(is_valid_id(value) for value in ids)
    store = JobStore(tmp_path)
    bad_ids = ("", "..", "../../etc/passwd", "a" * 21, "a" * 23, "abc/def" + "a" * 15, "a" * 21 + ".", "../" + "a" * 19)
    for bad in bad_ids:
        assert not is_valid_id(bad)
        with pytest.raises(JobNotFoundError):
            store.job_dir(bad)  # never joined onto a path


def test_a_crash_between_temp_write_and_rename_leaves_the_old_state(tmp_path, monkeypatch):
    store = JobStore(tmp_path)
    job_id = _create(store)
    store.update(job_id, state="running", started="2026-01-01T00:00:00+00:00")

    def crash(src, dst):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        store.update(job_id, state="done", summary={"people": 1})
    monkeypatch.undo()
    assert _on_disk(store, job_id)["state"] == "running"
    assert store.get(job_id).state == "running"  # memory follows the file, not the failed write
    assert not list((store.jobs_dir / job_id).glob(".*.tmp"))  # the failed write cleaned up after itself


def test_a_temp_file_left_by_a_killed_process_is_ignored_and_removed(tmp_path):
    store = JobStore(tmp_path)
    job_id = _create(store)
    store.update(job_id, state="done", finished="2026-01-01T00:00:00+00:00")
    folder = store.jobs_dir / job_id
    (folder / f".{JOB_FILE}.abc123.tmp").write_text('{"state": "fail')  # half written, never renamed
    reloaded = JobStore(tmp_path)
    assert reloaded.get(job_id).state == "done"
    assert not list(folder.glob(".*.tmp"))


def test_restart_requeues_interrupted_jobs_in_creation_order_with_notes(tmp_path):
    store = JobStore(tmp_path)
    first, second, finished, third = (_create(store, name) for name in ("a", "b", "c", "d"))
    outcome = JobOutcome(people=2, frames=9, estimator="lift", pose_backend="blazepose")
    store.update(finished, state="done", finished="2026-01-01T00:00:00+00:00", summary=outcome)
    running = store.claim_next()
    assert running is not None and running.id == first
    store.record_progress(first, StageProgress(stage="poses", done=3, total=9, unit="frames", eta_s=1.0))

    restarted = JobStore(tmp_path)  # the old process is gone; only the files remain
    job = restarted.get(first)
    assert job.state == "queued" and job.started is None and job.progress == {}
    assert any("interrupted by a server restart" in note and "re-queued" in note for note in job.notes)
    assert any("still queued" in note for note in restarted.get(second).notes)
    done = restarted.get(finished)
    assert done.state == "done" and done.summary == outcome and done.notes == []
    order = [restarted.claim_next().id for _ in range(3)]
    assert order == [first, second, third]
    assert restarted.claim_next() is None
    assert _on_disk(restarted, first)["notes"] == job.notes  # the note itself was saved


def test_queue_positions_count_the_jobs_ahead(tmp_path):
    store = JobStore(tmp_path)
    jobs = [_create(store) for _ in range(3)]
    assert [store.queue_position(job) for job in jobs] == [0, 1, 2]
    store.claim_next()
    assert [store.queue_position(job) for job in jobs] == [None, 1, 2]  # the running job counts as ahead
    store.update(jobs[0], state="done")
    assert [store.queue_position(job) for job in jobs] == [None, 0, 1]
    store.update(jobs[1], state="cancelled")
    assert [position for _, position in store.list()] == [None, None, 0]


def test_unreadable_job_folders_are_skipped_not_fatal(tmp_path):
    store = JobStore(tmp_path)
    good = _create(store)
    broken = store.jobs_dir / new_id()
    broken.mkdir()
    (broken / JOB_FILE).write_text("{not json")
    (store.jobs_dir / new_id()).mkdir()  # a crash between mkdir and the first write
    stray = store.jobs_dir / new_id()
    stray.mkdir()
    (stray / JOB_FILE).write_text(json.dumps({**_on_disk(store, good), "id": new_id()}))  # names another job
    reloaded = JobStore(tmp_path)
    assert [record.id for record, _ in reloaded.list()] == [good]


def test_progress_is_kept_in_memory_and_saved_at_most_once_a_second(tmp_path):
    store = JobStore(tmp_path)
    job_id = _create(store)
    store.claim_next()
    mtime = os.stat(store.jobs_dir / job_id / JOB_FILE).st_mtime_ns
    for done in range(1, 20):
        store.record_progress(job_id, StageProgress(stage="poses", done=done, total=19, unit="frames"))
    assert store.get(job_id).progress["poses"].done == 19
    assert os.stat(store.jobs_dir / job_id / JOB_FILE).st_mtime_ns == mtime  # claim_next saved just now


def test_a_record_survives_its_json_typed_and_older_files_still_load(tmp_path):
    store = JobStore(tmp_path)
    job_id = _create(store)
    store.claim_next()
    store.record_progress(job_id, StageProgress(stage="poses", done=4, total=9, unit="frames", eta_s=2.5))
    failure = JobFailure(code="pipeline_failed", message="the pose model crashed", stage="poses", frame=4)
    store.update(job_id, state="failed", error=failure, finished="2026-01-01T00:00:00+00:00")
    raw = _on_disk(store, job_id)
    assert raw["error"] == {"code": "pipeline_failed", "message": "the pose model crashed", "stage": "poses",
                            "frame": 4}  # fmt: skip
    back = JobRecord.from_json(raw)
    assert back == store.get(job_id) and isinstance(back.progress["poses"], StageProgress)
    older = {**raw, "summary": {"people": 1, "frames": 2, "estimator": "lift", "pose_backend": "blazepose",
                                "warnings": ["w"], "seconds": 1.0}, "retired_key": 1}  # fmt: skip
    outcome = JobRecord.from_json(older).summary
    assert outcome == JobOutcome(people=1, frames=2, estimator="lift", pose_backend="blazepose", warnings=("w",),
                                 seconds=1.0)  # fmt: skip


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw.update(created="yesterday"),  # not an ISO date: GET /v1/jobs answered 500 for everyone
        lambda raw: raw.update(progress={"poses": {"stage": "poses", "done": 3}}),  # a partial progress entry
        lambda raw: raw.update(seq="7"),
        lambda raw: raw.update(notes=["fine", 3]),
        lambda raw: raw.update(summary={"people": "many", "frames": 5, "estimator": "lift", "pose_backend": "x"}),
    ],
)
def test_a_damaged_job_record_is_quarantined_with_its_files_and_the_rest_load(tmp_path, damage, caplog):
    store = JobStore(tmp_path)
    good, bad = _create(store), _create(store)
    raw = _on_disk(store, bad)
    damage(raw)
    (store.jobs_dir / bad / JOB_FILE).write_text(json.dumps(raw))
    (store.jobs_dir / bad / "input.avi").write_bytes(b"the user's footage")
    reloaded = JobStore(tmp_path)
    assert [record.id for record, _ in reloaded.list()] == [good]
    assert (tmp_path / "quarantine" / bad / "input.avi").read_bytes() == b"the user's footage"  # kept aside
    assert not (store.jobs_dir / bad).exists()
    assert any("quarantined job folder" in message for message in caplog.messages)
    assert [record.id for record, _ in JobStore(tmp_path).list()] == [good]  # and it stays out


def test_a_job_interrupted_twice_is_failed_not_requeued_again(tmp_path):
    store = JobStore(tmp_path)
    job_id = _create(store)
    store.claim_next()
    once = JobStore(tmp_path).get(job_id)  # the server died while it ran
    assert once.state == "queued" and once.interruptions == 1

    again = JobStore(tmp_path)
    assert again.claim_next().id == job_id
    twice = JobStore(tmp_path).get(job_id)  # ... and died again: it would on every start
    assert twice.state == "failed" and twice.interruptions == 2 and twice.finished
    assert twice.error.code == "interrupted"
    assert "interrupted 2 times" in twice.error.message and "submit it again" in twice.error.message
    assert JobStore(tmp_path).claim_next() is None  # and stays failed
    assert _on_disk(JobStore(tmp_path), job_id)["state"] == "failed"


def test_a_cancel_requested_before_a_crash_is_honoured_after_it(tmp_path):
    store = JobStore(tmp_path)
    job_id = _create(store)
    store.claim_next()
    store.settle(job_id, cancel_requested=True)  # the worker's record of the client's cancel
    reloaded = JobStore(tmp_path)
    job = reloaded.get(job_id)
    assert job.state == "cancelled" and job.finished
    assert any("asked to stop" in note for note in job.notes)
    assert reloaded.claim_next() is None


def test_a_failed_save_keeps_a_settled_change_in_memory_until_the_disk_takes_it(tmp_path, monkeypatch):
    store = JobStore(tmp_path)
    job_id = _create(store)
    store.claim_next()
    real_save = JobFiles.save

    def disk_full(self, record):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "jobs" / record.id / "job.json"))

    monkeypatch.setattr(JobFiles, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        store.update(job_id, stage="poses")  # an ordinary change is refused whole
    assert store.get(job_id).stage is None
    store.settle(job_id, state="failed", finished="2026-01-01T00:00:00+00:00")
    assert store.get(job_id).state == "failed"  # shown at once
    assert store.problems == ["job records cannot be saved in the server's data folder (No space left on device)"]
    assert str(tmp_path) not in store.problems[0]
    assert _on_disk(store, job_id)["state"] == "running"
    with pytest.raises(OSError, match="No space left"):
        store.save_pending()

    monkeypatch.setattr(JobFiles, "save", real_save)  # space is back
    store.save_pending()
    assert store.problems == [] and _on_disk(store, job_id)["state"] == "failed"
