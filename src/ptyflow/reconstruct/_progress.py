"""The per-iteration log and the rich progress bar that shows it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

__all__ = ["IterationLog", "progress_bar"]


@dataclass
class IterationLog:
    """Loss, R-factor data error and wall time [s] of each iteration."""

    loss: list[float] = field(default_factory=list)
    data_error: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, loss: float, data_error: float, seconds: float) -> None:
        self.loss.append(loss)
        self.data_error.append(data_error)
        self.seconds.append(seconds)


class _Bar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress, self._task = progress, task

    def advance(self, history: IterationLog) -> None:
        self._progress.update(
            self._task,
            advance=1,
            loss=f"{history.loss[-1]:.4g}",
            error=f"{history.data_error[-1]:.4f}",
        )


@contextmanager
def progress_bar(enabled: bool, total: int, completed: int) -> Iterator[_Bar]:
    """A bar over iterations showing the loss and the R-factor data error."""
    progress = Progress(
        TextColumn("reconstruct"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}  R {task.fields[error]}"),
        TimeRemainingColumn(),
        disable=not enabled,
    )
    with progress:
        task = progress.add_task(
            "reconstruct", total=total, completed=completed, loss="-", error="-"
        )
        yield _Bar(progress, task)
