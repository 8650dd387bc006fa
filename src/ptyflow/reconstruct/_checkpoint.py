"""Checkpoints for preemption: everything a resumed run needs to continue bit for bit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ptyflow._files import fsync_path, partial_path, rename_durably
from ptyflow.errors import ResultError
from ptyflow.reconstruct._progress import IterationLog

__all__ = ["Checkpoint", "checkpoint_path"]


def checkpoint_path(out: Path) -> Path:
    """``RESULT.checkpoint.pt`` beside the result store."""
    return out.with_name(out.name + ".checkpoint.pt")


@dataclass
class Checkpoint:
    path: Path
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    history: IterationLog

    def save(self, next_iteration: int) -> None:
        """Write atomically and durably: a preempted write or a power cut leaves the previous
        checkpoint intact, never an empty one (bytes fsynced before the rename, the
        directory after it, as ``ptyflow._files.write_text_atomic``)."""
        state = {
            "next_iteration": next_iteration,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "history": [self.history.loss, self.history.data_error, self.history.seconds],
            "torch_rng": torch.get_rng_state(),
        }
        tmp = partial_path(self.path)
        torch.save(state, tmp)
        fsync_path(tmp)
        rename_durably(tmp, self.path)

    def load(self) -> int:
        """Restore the saved state; return the iteration to continue from."""
        if not self.path.is_file():
            raise ResultError(f"{self.path}: no checkpoint to resume from")
        try:
            state = torch.load(self.path, weights_only=True)
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
        except (RuntimeError, KeyError, ValueError) as err:
            raise ResultError(
                f"{self.path}: checkpoint does not match this dataset and config: {err}"
            ) from None
        self.history.loss, self.history.data_error, self.history.seconds = state["history"]
        torch.set_rng_state(state["torch_rng"])
        return int(state["next_iteration"])

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
