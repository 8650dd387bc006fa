"""Waiting for something a real process does, as a hang guard (never as a timing)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["wait_until"]


def wait_until(
    condition: Callable[[], Any], what: str, timeout_s: float = 60.0, poll_s: float = 0.05
) -> Any:
    """Poll until ``condition()`` is truthy and return that value; AssertionError naming
    ``what`` if it is not within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out waiting for {what}")
