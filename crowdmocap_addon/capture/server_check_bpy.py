"""The server's status line: asked on a background thread when the panel first draws, or by its button.

A panel's ``draw`` must neither block on the network nor write properties, so it only starts the
question; a one-shot timer writes the answer into the window manager's status once it has come.
"""

from __future__ import annotations

import threading
from typing import Any

import bpy

from ..client.http import ServerClient, ServerError

_POLL_S = 0.2
_pending: list[threading.Thread] = []  # at most one question in flight
_answer: dict[str, str] = {}


def describe(health: dict[str, Any]) -> str:
    """One line from ``GET /v1/health``: version, device, the estimators it can run."""
    usable = [name for name, item in health.get("estimators", {}).items() if item.get("usable")]
    where = f"Server {health.get('version', '?')} on {health.get('device', '?')}"
    return f"{where}: estimators {', '.join(usable) or 'none'}"


def ask(client: ServerClient) -> tuple[bool, str]:
    """(reachable, the line to show)."""
    try:
        return True, describe(client.health())
    except ServerError as exc:
        return False, str(exc)


def request(client: ServerClient) -> bool:
    """Start a background question unless one is in flight; returns whether one was started."""
    if _pending:
        return False
    _answer.clear()

    def run() -> None:
        _answer["line"] = ask(client)[1]

    thread = threading.Thread(target=run, name="crowdmocap-health", daemon=True)
    _pending.append(thread)
    thread.start()
    if not bpy.app.timers.is_registered(deliver):
        bpy.app.timers.register(deliver, first_interval=_POLL_S)
    return True


def deliver() -> float | None:
    """Timer: once the answer is in, show it (and redraw); until then, look again shortly."""
    if _pending and _pending[0].is_alive():
        return _POLL_S
    _pending.clear()
    status = getattr(bpy.context.window_manager, "crowdmocap_status", None)
    if status is not None and "line" in _answer:
        status.server, status.server_checked = _answer["line"], True
        for window in bpy.context.window_manager.windows:
            for area in window.screen.areas:
                if area.type == "VIEW_3D":
                    area.tag_redraw()
    return None


def forget() -> None:
    """On unregister: drop the timer (a thread still asking ends by itself, within its timeout)."""
    if bpy.app.timers.is_registered(deliver):
        bpy.app.timers.unregister(deliver)
    _pending.clear()
    _answer.clear()
