"""Sending files with rsync, pipelined with their verification on the destination.

The files go in a few batches, large first: while rsync sends batch k+1, the destination
hashes batch k (:mod:`ptyflow.transfer._remote`), so on a separate server verification
costs little more than the hashing of the last, smallest batch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ptyflow.config.transfer import RsyncConfig
from ptyflow.errors import TransferError
from ptyflow.provenance import HASH_EXCLUDES, tree_hash
from ptyflow.transfer._destination import Destination, failure_text, run_command
from ptyflow.transfer._store_files import SealedStore

__all__ = [
    "PIPELINE_MIN_BYTES",
    "Comparison",
    "batches",
    "compare",
    "send_and_hash",
    "send_files",
]

#: Shares of a store's bytes per batch: few batches (each is one rsync run), the last one
#: small, because its hashing is the only part not hidden behind sending.
_BATCH_SHARES = (0.4, 0.3, 0.2, 0.1)
#: Below this a store goes in one batch: starting rsync runs would cost more than the
#: overlap saves.
PIPELINE_MIN_BYTES = 64 * 1024**2


def send_files(
    source_dir: Path,
    files: Sequence[str],
    dest: Destination,
    rel: str,
    config: RsyncConfig,
    *,
    ignore_times: bool = False,
) -> None:
    """rsync ``files`` (relative to ``source_dir``) into ``rel`` below the destination root.

    A file being sent has rsync's hidden temp name, and after an interruption it waits in
    the partial dir: never under its final name. Missing parent directories are created.
    ``ignore_times`` re-sends files whatever their size and mtime (a repair: a damaged file
    can keep both).
    """
    if not files:
        return
    argv = [
        "rsync",
        "--archive",
        "--mkpath",
        "--from0",
        "--files-from=-",
        f"--partial-dir={config.partial_dir}",
        f"--timeout={config.io_timeout_s}",
        *dest.rsync_options(),
    ]
    if config.bandwidth_limit_KiB_per_s is not None:
        argv.append(f"--bwlimit={config.bandwidth_limit_KiB_per_s}")
    if ignore_times:
        argv.append("--ignore-times")
    argv += [f"{source_dir}/", dest.rsync_target(rel).rstrip("/") + "/"]
    proc = run_command(argv, stdin=b"\0".join(f.encode() for f in files))
    if proc.returncode != 0:
        raise TransferError(f"rsync to {dest.label}: {failure_text(proc)}")


def batches(files: Sequence[str], sizes: Mapping[str, int]) -> list[list[str]]:
    """``files`` in order, cut into batches by :data:`_BATCH_SHARES` of their total size."""
    total = sum(sizes.get(f, 0) for f in files)
    if total < PIPELINE_MIN_BYTES:
        return [list(files)] if files else []
    out: list[list[str]] = [[]]
    bounds = [total * sum(_BATCH_SHARES[: i + 1]) for i in range(len(_BATCH_SHARES))]
    sent = 0
    for f in files:
        if sent >= bounds[len(out) - 1] and len(out) < len(bounds):
            out.append([])
        out[-1].append(f)
        sent += sizes.get(f, 0)
    return [b for b in out if b]


def send_and_hash(
    parts: Sequence[Sequence[str]],
    send: Callable[[Sequence[str]], None] | None,
    hash_files: Callable[[Sequence[str]], dict[str, str]],
) -> dict[str, str]:
    """Send each part (unless ``send`` is None) while the previous part is being hashed."""
    found: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=1) as hasher:
        futures = []
        for part in parts:
            if send is not None:
                send(part)
            futures.append(hasher.submit(hash_files, part))
        for future in futures:
            found |= future.result()
    return found


@dataclass(frozen=True)
class Comparison:
    """The destination's files against what the sealed store says they must be."""

    differing: tuple[str, ...]  # missing or with another hash
    extra: tuple[str, ...]  # present but not part of the store
    tree_hash: str  # over the destination's files, record and manifest left out
    expected_tree_hash: str

    @property
    def ok(self) -> bool:
        return not self.differing and not self.extra and self.tree_hash == self.expected_tree_hash

    def describe(self) -> str:
        parts = []
        if self.differing:
            parts.append(
                f"{len(self.differing)} file(s) differ or are missing: {_few(self.differing)}"
            )
        if self.extra:
            parts.append(f"{len(self.extra)} file(s) not in the store: {_few(self.extra)}")
        if not parts:
            parts.append(f"tree hash {self.tree_hash} != {self.expected_tree_hash}")
        return "; ".join(parts)


def _few(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def compare(store: SealedStore, found: Mapping[str, str], present: Collection[str]) -> Comparison:
    """Compare hashes ``found`` and the files ``present`` on the destination with the store."""
    expected = store.expected()
    differing = tuple(
        sorted(k for k, v in expected.items() if found.get(k) != v or k not in present)
    )
    extra = tuple(sorted(set(present) - set(expected)))
    content = {
        k: {"sha256": v} for k, v in found.items() if k in expected and k not in HASH_EXCLUDES
    }
    return Comparison(differing, extra, tree_hash(content), store.content_hash)
