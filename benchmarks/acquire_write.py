"""The acquisition daemon's write side alone: ``SeriesManager.handle`` up to the sealed store.

No receiver, so a slow receive path cannot hide the writer's cost. The events a real run
hands the writer thread are built in memory first: a ``SeriesStart``, ``FrameBlock``s of
already-compressed output with their live sums (what the decode workers produce), then a
``SeriesEnd``. A 256 × 256 scan (65,536 frames) of 96×96 uint16 sparse diffraction, for
each compression (none, bin2, bin4, virtual with 32 segments); each kind runs in its own
process, so its peak RSS is its own.

Baseline, measured in the same process on the same bytes: plain zarr writing each whole
shard (``array[shard] = block``, the store's own codec chain, one thread), nothing else.
The writer does more than that (bookkeeping, live images, ``frames_received`` marked as
shards land, hashing, sealing) but may use its two shard threads.

Not a test: ``python benchmarks/acquire_write.py [--frames N] [--block N] [--kinds …]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from rich.console import Console
from rich.table import Table

from ptyflow.acquire import synthetic_frames
from ptyflow.acquire._events import FrameBlock, SeriesEnd, SeriesStart
from ptyflow.acquire._manager import SeriesManager
from ptyflow.config import load_toml
from ptyflow.config.acquire import AcquireConfig
from ptyflow.dataset import open_dataset

ROOT = Path(__file__).resolve().parents[1]
KINDS = {
    "none": ["compress.kind=none"],
    "bin2": ["compress.kind=bin", "compress.bin.factor=2"],
    "bin4": ["compress.kind=bin", "compress.bin.factor=4"],
    "virtual32": ["compress.kind=virtual"],  # default: 4 rings × 8 segments
}
FRAME = (96, 96)
NX = 256  # scan width


def _config(kind: str, out: Path, n_frames: int, overrides: list[str]) -> AcquireConfig:
    return load_toml(
        ROOT / "configs" / "acquire.toml",
        AcquireConfig,
        [
            f"output.directory={out}",
            f"scan.shape=[{n_frames // NX}, {NX}]",
            "detector.pixel_size_inv_A=0.05",
            "status.enabled=false",
            *KINDS[kind],
            *overrides,
        ],
    )


def _baseline(path: Path, like: zarr.Array, block: np.ndarray) -> float:
    """Seconds for plain zarr to write ``like``'s shape in whole shards of ``block``'s
    bytes, with ``like``'s chunks, shards and codecs, on this thread."""
    base = zarr.create_array(
        zarr.storage.LocalStore(path),
        shape=like.shape,
        dtype=like.dtype,
        chunks=like.chunks,
        shards=like.shards,
        compressors=like.compressors,
        fill_value=like.fill_value,
    )
    sy, sx = base.shards[:2]  # type: ignore[index]
    shard = np.resize(block, (sy, sx, *block.shape[1:]))  # the frames, repeated
    t0 = time.perf_counter()
    for y in range(0, base.shape[0], sy):
        for x in range(0, base.shape[1], sx):
            base[y : y + sy, x : x + sx] = shard
    return time.perf_counter() - t0


def run_one(
    kind: str, n_frames: int, block: int, tmp: Path, overrides: list[str]
) -> dict[str, Any]:
    """Time one series through ``SeriesManager.handle``; return the row's figures."""
    config = _config(kind, tmp / kind, n_frames, overrides)
    manager = SeriesManager(config)
    raw = synthetic_frames(256, FRAME, seed=1)
    start = SeriesStart(1, "v1", {}, None, n_frames, None)
    # The first frame opens the store and compiles the compressor: not timed.
    manager.handle([start, FrameBlock(1, np.zeros(1, np.int64), raw[:1])])
    comp = manager.compressors[1]
    out, live = comp.empty_outputs(len(raw))
    comp.compress(raw, out, live)
    # views into the distinct frames, repeated: the events cost no memory of their own
    n = len(raw)
    reps = -(-block // n) + 1
    out, live = np.concatenate([out] * reps), np.concatenate([live] * reps)
    events: list[Any] = []
    for a in range(1, n_frames, block):
        b = min(a + block, n_frames)
        ids = np.arange(a, b, dtype=np.int64)
        events.append(
            FrameBlock(1, ids, out[a % n : a % n + b - a], live[a % n : a % n + b - a], comp)
        )
    cpu0, t0 = time.process_time(), time.perf_counter()
    for ev in events:
        manager.handle([ev])
    t_end = time.perf_counter()
    manager.handle([SeriesEnd(1)])
    seconds, seal_s = time.perf_counter() - t0, time.perf_counter() - t_end
    cpu_s = time.process_time() - cpu0
    summary = manager.closed[0]
    store = Path(summary["store"])
    ds = open_dataset(store)
    n_timed = n_frames - 1
    frame_bytes = out[0].nbytes
    baseline_s = _baseline(tmp / f"{kind}-baseline.zarr", ds.data_array, out[:n])
    on_disk = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    return {
        "kind": kind,
        "frame_bytes": frame_bytes,
        "frames_per_s": n_timed / seconds,
        "MB_per_s": n_timed * frame_bytes / seconds / 1e6,
        "baseline_frames_per_s": n_frames / baseline_s,
        "cpu_s_per_1k": cpu_s / n_timed * 1000,
        "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "seal_s": seal_s,
        "lost": int(n_frames - np.asarray(ds.frames_received).sum()),
        "state": ds.state.value,
        "ratio_on_disk": n_frames * frame_bytes / on_disk,
        "error": summary.get("error"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=65536, help="a multiple of 256")
    parser.add_argument("--block", type=int, default=256, help="frames per FrameBlock")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=list(KINDS))
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="acquire config override, e.g. output.codec=zstd or output.shard_nav=[16,32]",
    )  # fmt: skip
    parser.add_argument("--profile", metavar="FILE", help="cProfile one kind into FILE")
    parser.add_argument("--one", choices=list(KINDS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child process: one kind, JSON on stdout
        with tempfile.TemporaryDirectory() as tmp:
            if args.profile:
                import cProfile

                with cProfile.Profile() as prof:
                    row = run_one(args.one, args.frames, args.block, Path(tmp), args.set)
                prof.dump_stats(args.profile)
            else:
                row = run_one(args.one, args.frames, args.block, Path(tmp), args.set)
        print(json.dumps(row))
        return
    console = Console(width=160)
    table = Table(
        title=f"acquire write side: {args.frames:,} frames (96×96 uint16 compressed), "
        f"blocks of {args.block}, SeriesManager.handle → sealed store"
        + (f", {' '.join(args.set)}" if args.set else "")
    )
    cols = ("compress", "B/frame", "frames/s", "MB/s", "baseline /s", "vs baseline",
            "CPU s/1k", "peak RSS MB", "seal s", "lost", "disk ratio")  # fmt: skip
    for col in cols:
        table.add_column(col, justify="right")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    for kind in args.kinds:
        cmd = [sys.executable, __file__, "--one", kind, "--frames", str(args.frames)]
        cmd += ["--block", str(args.block), *(f"--set={o}" for o in args.set)]
        if args.profile:
            cmd += ["--profile", f"{args.profile}.{kind}"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            console.print(f"{kind}: failed\n{done.stderr[-3000:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        table.add_row(
            kind, f"{r['frame_bytes']:,}", f"{r['frames_per_s']:,.0f}", f"{r['MB_per_s']:,.0f}",
            f"{r['baseline_frames_per_s']:,.0f}",
            f"{r['frames_per_s'] / r['baseline_frames_per_s']:.2f}×",
            f"{r['cpu_s_per_1k']:.3f}", f"{r['peak_rss_MB']:,.0f}", f"{r['seal_s']:.2f}",
            str(r["lost"]), f"{r['ratio_on_disk']:.1f}×",
        )  # fmt: skip
    console.print(table)
    console.print(
        "frames/s: first block handed to SeriesManager.handle to the sealed store (seal "
        "included); MB/s: compressed-output bytes handed in (before the store's lossless "
        "codec); baseline: plain zarr writing the same bytes in whole shards with the same "
        "codecs on one thread, nothing else; CPU: process CPU seconds (all threads) per 1k "
        f"frames; disk ratio: bytes handed in over bytes on disk. load: {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
