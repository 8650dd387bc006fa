"""The progress bar long stage runs show (simulate, compress, import): label, bar, n/total, ETA."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

__all__ = ["count_progress"]


def count_progress(label: str, *, enabled: bool) -> Progress:
    """A bar counting items (frames, positions); ``label`` may be ``"{task.description}"``."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )
