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
    settings_ = ServerSettings(data_dir=root / "data", allowed_paths=(footage,), max_upload_mb=2, device="cpu",
                               models_dir=root / "models")  # fmt: skip
    app = create_app(settings_, FakeRunner(), components=fake_components)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


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
    for operation in operations:
        bounded(given(case=operation.as_strategy(mode))(check))()
    # The generated data got past validation into the handlers, not only bounced off the schema.
    reached = {code for (label, code) in codes if label == "POST /v1/jobs"}
    assert reached & {"upload_not_found", "invalid_path", "path_not_allowed", "path_not_found"}, codes
    assert ("POST /v1/uploads", "unreadable_video") in codes, codes
