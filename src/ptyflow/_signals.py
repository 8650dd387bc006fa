"""Signals: SIGTERM ends a command like Ctrl-C, and sealing a store is never cut in half.

Slurm and systemd stop a job with SIGTERM, whose default action kills the process on the
spot: a store being written would stay ``acquiring``. :func:`sigterm_as_interrupt`
turns SIGTERM into :class:`Terminated` (a ``KeyboardInterrupt``), so every ``with``
block unwinds and the store closes as ``failed``. :func:`signals_deferred` holds SIGINT
and SIGTERM back while a store is closed and re-raises them afterwards, so a second
Ctrl-C cannot leave a half-sealed store.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["Terminated", "signals_deferred", "sigterm_as_interrupt"]

_DEFERRED = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; handled wherever Ctrl-C is."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"terminated by signal {signal.Signals(signum).name}")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block SIGTERM raises :class:`Terminated` (call from the main thread)."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back inside the block; deliver them when it ends.

    Python runs signal handlers in the main thread only, so elsewhere this does nothing
    (and nothing is needed: the signal interrupts the main thread, not this one).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in _DEFERRED}
    # None: set outside Python. SIG_IGN: the process ignores it (a job started in the
    # background by a shell ignores SIGINT), so there is nothing to hold back or deliver.
    held = {sig: h for sig, h in previous.items() if h not in (None, signal.SIG_IGN)}
    try:  # inside: a signal between two installs still restores the first
        for sig in held:
            signal.signal(sig, lambda signum, frame: caught.append(signum))
        yield
    finally:
        for sig, handler in held.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)
