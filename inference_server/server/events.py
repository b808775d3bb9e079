"""Server-sent events for one job: its status whenever it (or its queue position) changes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from .job_record import TERMINAL
from .schemas import JobStatus
from .store import JobStore

POLL_S = 0.25  # how often the store is looked at; progress arrives at most every 0.2 s anyway
KEEPALIVE_S = 15.0  # a comment line keeps proxies from closing a quiet stream


def sse(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


async def job_events(store: JobStore, job_id: str) -> AsyncIterator[str]:
    """Yield ``status`` events; end after a terminal state, or with ``deleted`` if the job goes away."""
    seen: tuple[int, int | None] | None = None
    last_sent = time.monotonic()
    while True:
        snap = store.snapshot(job_id)
        if snap is None:
            yield sse("deleted", json.dumps({"id": job_id}))
            return
        version, record, position = snap
        if (version, position) != seen:
            seen, last_sent = (version, position), time.monotonic()
            yield sse("status", JobStatus.from_record(record, position).model_dump_json())
            if record.state in TERMINAL:
                return
        elif time.monotonic() - last_sent > KEEPALIVE_S:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_S)
