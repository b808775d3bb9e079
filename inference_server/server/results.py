"""The result as JSON, converted once from the .npz with the project's exporter and kept beside it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .job_files import RESULT_JSON_FILE


def json_result(npz_path: Path) -> Path:
    """``result.json`` next to ``npz_path``, written atomically on first request."""
    out = npz_path.with_name(RESULT_JSON_FILE)
    if out.is_file():
        return out
    from crowdmocap_addon.core.result.reader import read_result

    from ..result.export import export_json

    fd, temp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        export_json(read_result(npz_path), temp)
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return out
