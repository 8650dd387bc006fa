"""What durability costs: a store written and sealed, and a transfer, with and without fsync.

ptyflow fsyncs what may be a user's only copy before declaring it finished: every file of a
store when it is sealed (then the record and the manifest, each before its rename, and
their directory after), and every file of a transfer on the destination before the
transfer is recorded (docs/dataset-store.md, "Durability"). This measures, in one run, on
the file system of ``--dir``:

1. a store of ``--size-GB`` of incompressible uint16 frames written row by row and
   closed: the close (flush, seal) and the whole write, with fsync and with ``os.fsync``
   made a no-op (the baseline: the data left in the page cache);
2. ``Transfer.send_and_verify`` of that store to a local destination (rsync, sha256 of
   every file there, record), with and without the destination's fsync.

Each variant runs ``--repeats`` times, alternating, after ``os.sync()`` so that no earlier
run's dirty pages are charged to it; the table shows the best time of each. Usage:
    PYTHONPATH=src python benchmarks/durability_fsync.py [--size-GB 0.25] [--repeats 3]
        [--dir /path/on/the/disk/to/measure]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from ptyflow.config import validate_config
from ptyflow.config.transfer import TransferConfig
from ptyflow.dataset import create_dataset
from ptyflow.provenance import start_record
from ptyflow.testing import make_metadata
from ptyflow.transfer import Transfer

_SHARD = 16  # scan positions per shard side (the store default)
_FRAME = 80  # detector pixels per side: 12.8 kB per uint16 frame


def _no_fsync() -> AbstractContextManager[Any]:
    return mock.patch("os.fsync", lambda fd: None)


def _write_store(path: Path, size_GB: float, durable: bool) -> tuple[float, float, int]:
    """Write and close a store; return (write + close seconds, close seconds, files)."""
    n_side = max(1, round((size_GB * 1e9 / (_SHARD**2 * _FRAME**2 * 2)) ** 0.5))
    scan = n_side * _SHARD
    metadata = make_metadata((scan, scan), (_FRAME, _FRAME), bit_depth=16, source="benchmark")
    rng = np.random.default_rng(0)
    blocks = [
        rng.integers(0, 2**16, (_SHARD * scan, _FRAME, _FRAME), dtype=np.uint16)
        for _ in range(0, scan, _SHARD)
    ]
    os.sync()
    with nullcontext() if durable else _no_fsync():
        t0 = time.perf_counter()
        writer = create_dataset(path, metadata, dtype=np.uint16, record=start_record("acquire"))
        for i, block in enumerate(blocks):
            writer.write_frames(i * _SHARD * scan, block)
        t1 = time.perf_counter()
        writer.close()
        t2 = time.perf_counter()
    return t2 - t0, t2 - t1, sum(1 for p in path.rglob("*") if p.is_file())


def _transfer(store: Path, root: Path, work: Path, durable: bool) -> float:
    config = validate_config(
        {
            "source": {"watch_dir": str(store.parent), "queue_db": str(work / "q.sqlite")},
            "destination": {"target": str(root)},
        },
        TransferConfig,
    )
    os.sync()
    skip = nullcontext() if durable else mock.patch("ptyflow.transfer._engine.sync_files")
    with skip, Transfer(config) as transfer:
        t0 = time.perf_counter()
        transfer.send_and_verify(store)
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-GB", type=float, default=0.25, help="store size (default 0.25)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each variant")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: /tmp)")
    args = parser.parse_args()
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ptyflow-bench-fsync-", dir=args.dir) as tmp:
        work = Path(tmp)
        for i in range(args.repeats):
            for durable in (True, False) if i % 2 else (False, True):
                tag = "fsync" if durable else "no fsync"
                store = work / f"acq-{i}-{durable}" / "s.zarr"
                total, close, n_files = _write_store(store, args.size_GB, durable)
                dest = work / f"dest-{i}-{durable}"
                moved = _transfer(store, dest, work / f"q-{i}-{durable}", durable)
                for label, seconds in (
                    (f"store write + close ({tag})", total),
                    (f"store close: flush, seal ({tag})", close),
                    (f"transfer, verified ({tag})", moved),
                ):
                    best[label] = min(best.get(label, seconds), seconds)
                shutil.rmtree(store.parent)
                shutil.rmtree(dest)
    print(f"store: {args.size_GB:.2f} GB of incompressible frames in {n_files} files\n")
    print(f"{'variant':<40} {'s':>7} {'ratio':>7}")
    for label in sorted(best, key=lambda k: (k.split(" (")[0], "(fsync)" in k)):
        base = best[label.replace("(fsync)", "(no fsync)")]
        print(f"{label:<40} {best[label]:7.3f} {best[label] / base:7.2f}")
    print("\nratio = time / the same without fsync (1.00 = free)")


if __name__ == "__main__":
    main()
