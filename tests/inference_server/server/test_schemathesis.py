"""Property-based requests generated from the OpenAPI schema (schemathesis): no input makes a 5xx.

The app runs in-process (ASGI) with the fake runner, a small upload limit and one allowed footage folder,
so the path, upload and job routes all see generated data. Examples are bounded and derandomized (the
same run every time); an unhandled exception surfaces as an exception from ``case.call`` and fails too.
"""

from __future__ import annotations

import collections
import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from inference_server.server.app import create_app
from inference_server.server.settings import ServerSettings

from .conftest import STREET_CLIP, FakeRunner, fake_components

MAX_EXAMPLES = 40


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    root = tmp_path_factory.mktemp("schemathesis")
    footage = root / "footage"
    footage.mkdir()
    shutil.copy(STREET_CLIP, footage / "street.avi")
    # The in-process client addresses the app as "testserver": allowed like any name given to --allow-host.
    settings_ = ServerSettings(data_dir=root / "data", allowed_paths=(footage,), max_upload_mb=2, device="cpu",
                               models_dir=root / "models", allowed_hosts=("testserver",))  # fmt: skip
    app = create_app(settings_, FakeRunner(), components=fake_components, isolated=False)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _takes_more_than_path_ids(operation) -> bool:
    raw = operation.definition.raw
    return "requestBody" in raw or any(param["in"] != "path" for param in raw.get("parameters", []))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_generated_requests_never_cause_a_server_error(api_schema, mode):
    codes: collections.Counter[tuple[str, str]] = collections.Counter()

    def check(case) -> None:
        response = case.call()
        label = f"{case.method} {case.formatted_path}"
        assert response.status_code < 500, f"{label}: {response.status_code} {response.text}"
        if response.status_code >= 400:
            error = response.json()["error"]
            assert set(error) == {"code", "message"} and error["code"] and error["message"], label
            codes[(case.operation.label, error["code"])] += 1

    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 10
    bounded = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                       suppress_health_check=list(HealthCheck))  # fmt: skip
    nothing_invalid = []
    for operation in operations:
        try:
            bounded(given(case=operation.as_strategy(mode))(check))()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
            nothing_invalid.append(operation.label)
    # Invalid input cannot be made only where there is none but a path id (any string is one); the loopback
    # server's spec declares no token header either. Every other operation was run with invalid input.
    assert nothing_invalid == [op.label for op in operations if not _takes_more_than_path_ids(op)] * (
        mode is GenerationMode.NEGATIVE
    )
    reached = {code for (label, code) in codes if label == "POST /v1/jobs"}
    if mode is GenerationMode.POSITIVE:  # valid data got past validation into the handlers
        assert reached & {"upload_not_found", "invalid_path", "path_not_allowed", "path_not_found"}, codes
    else:  # invalid data was refused by validation, with its own codes
        assert {"invalid_request", "malformed_json"} <= reached, codes
    assert ("POST /v1/uploads", "unreadable_video") in codes, codes
