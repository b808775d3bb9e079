"""The server's settings: one validated record built from the command line before anything starts."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .defaults import (
    DEFAULT_HOST,
    DEFAULT_MAX_UPLOAD_MB,
    DEFAULT_PORT,
    DEFAULT_UPLOAD_KEEP_HOURS,
    default_data_dir,
)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach; any other bind needs a token."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def is_wildcard(host: str) -> bool:
    """True for a bind on every interface (0.0.0.0, ::): clients reach it by names the server cannot know."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


ANY_HOST = "*"
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


def normalize_host(name: str) -> str:
    """A host name as ``Host`` headers are compared: lower case, no IPv6 brackets, no trailing dot."""
    return name.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")


class ServerSettings(BaseModel):
    """Where the server listens, keeps its data and may read footage; checked once at start-up."""

    model_config = ConfigDict(frozen=True)

    host: str = DEFAULT_HOST
    port: int = Field(DEFAULT_PORT, ge=1, le=65535)
    data_dir: Path = Field(default_factory=default_data_dir)
    allowed_paths: tuple[Path, ...] = ()  # folders whose files may be submitted by path (--allow-path)
    max_upload_mb: int = Field(DEFAULT_MAX_UPLOAD_MB, ge=1)
    upload_keep_hours: float = Field(DEFAULT_UPLOAD_KEEP_HOURS, gt=0)  # unclaimed uploads are deleted after this
    require_token: bool = False  # also require the token on a loopback bind
    # Extra names the Host and Origin headers may carry (--allow-host); "*": any. See request_guard.
    allowed_hosts: tuple[str, ...] = ()
    models_dir: Path | None = None  # None: $CROWDMOCAP_MODELS, else the platform default
    device: Literal["auto", "cpu", "cuda"] = "auto"
    ray_address: str | None = None  # run each job as a Ray task there ("local": Ray started in the server)

    @field_validator("data_dir", "models_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return None if value is None else Path(value).expanduser().absolute()

    @field_validator("allowed_paths")
    @classmethod
    def _real_folders(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        """Allowed roots as real paths (symlinks resolved), so containment checks compare like with like."""
        roots = []
        for path in value:
            real = Path(os.path.realpath(Path(path).expanduser()))
            if not real.is_dir():
                raise ValueError(f"--allow-path {path}: not a folder")
            roots.append(real)
        return tuple(roots)

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Bare host names or IP addresses (no scheme, no port), normalised; "*" alone means any host."""
        names = []
        for raw in value:
            name = normalize_host(raw)
            if name != ANY_HOST and not _HOST_NAME.fullmatch(name):
                try:
                    ipaddress.ip_address(name)
                except ValueError:
                    raise ValueError(
                        f"--allow-host {raw!r}: give a host name or IP address, without scheme or port "
                        "(e.g. --allow-host crowdmocap.lan), or '*' for any host"
                    ) from None
            names.append(name)
        return tuple(dict.fromkeys(names))

    @property
    def host_check(self) -> bool:
        """Whether the Host header must name this machine: on a loopback bind, or whenever names are allowed.

        A loopback server is meant for this machine's programs only, so a Host naming anything else is a
        browser tricked by DNS rebinding. A remote bind needs the token, which such a page cannot know, and
        is reached by names the server cannot guess; its check is on only when ``--allow-host`` lists them.
        """
        if ANY_HOST in self.allowed_hosts:
            return False
        return is_loopback(self.host) or bool(self.allowed_hosts)

    @property
    def token_required(self) -> bool:
        return self.require_token or not is_loopback(self.host)

    def capture_overrides(self) -> dict[str, str | None]:
        """CaptureOptions fields the server decides for every job: where models are and which device."""
        return {"models_dir": None if self.models_dir is None else str(self.models_dir), "device": self.device}

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024
