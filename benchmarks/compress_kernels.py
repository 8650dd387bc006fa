"""Throughput of the compression kernels on a 4D-STEM-like batch, against memcpy and numpy.

4,096 sparse 96×96 uint16 frames (Poisson counts on a bright-field disk plus a weak diffuse
tail) go through each mode on one and on two threads (each thread its own output buffers,
as the acquisition daemon's workers). Every ratio is against a baseline measured in the
same run: ``vs memcpy`` is the kernel's time over a numpy copy of the same input bytes on
as many threads; ``frames/CPU-s`` counts the threads' CPU time, which waiting for a busy shared
CPU does not inflate. Not a test: run ``python benchmarks/compress_kernels.py``.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from ptyflow.compress import KERNELS, Compressor
from ptyflow.compress._reference import bin_numpy, masks_numpy, moments_numpy
from ptyflow.config import validate_config
from ptyflow.config.compress import CompressConfig
from ptyflow.dataset import Acquisition, DatasetMetadata, Detector, Scan, live_detectors
from ptyflow.physics import Probe

N_FRAMES, SHAPE, BATCH, REPEATS = 4096, (96, 96), 256, 5
RAW_BYTES = SHAPE[0] * SHAPE[1] * 2
SCAN_256 = 256 * 256


def metadata() -> DatasetMetadata:
    """A 300 kV, 21.4 mrad probe whose BF disk is 16 px in radius on a 96×96 detector."""
    return DatasetMetadata(
        acquisition=Acquisition(
            beam=Probe(energy_eV=300e3, semiangle_mrad=21.4),
            scan=Scan(shape=(256, 256), step_A=(0.4, 0.4)),
            detector=Detector(
                shape=SHAPE,
                pixel_size_inv_A=0.068,
                center_px=(48.0, 48.0),
                bit_depth=16,
                name="bench",
            ),
            source="benchmark",
            started_utc=datetime.now(UTC),
        )
    )


def frames(rng: np.random.Generator) -> np.ndarray:
    """Poisson counts: ~0.6 e/px inside the BF disk, ~0.01 e/px outside (sparse)."""
    y, x = np.indices(SHAPE) - 48.0
    rate = np.where(np.hypot(y, x) <= 16, 0.6, 0.01)
    return rng.poisson(rate, (N_FRAMES, *SHAPE)).astype(np.uint16)


def timed(run: Callable[[int, slice], None], threads: int) -> tuple[float, float]:
    """``(wall, cpu)`` [s] of the fastest of REPEATS passes of ``run(worker, batch_slice)``
    over all batches on ``threads``; ``cpu`` sums the threads' CPU time, which other work
    on a shared machine does not inflate."""
    batches = [slice(i, i + BATCH) for i in range(0, N_FRAMES, BATCH)]

    def worker(w: int) -> float:
        t0 = time.thread_time()
        for b in batches[w::threads]:
            run(w, b)
        return time.thread_time() - t0

    best = (np.inf, np.inf)
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            cpu = sum(pool.map(worker, range(threads)))
            best = min(best, (time.perf_counter() - t0, cpu))
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    data, md = frames(rng), metadata()
    console = Console(width=200)
    tmp = Path(tempfile.mkdtemp())
    dense_path = tmp / "dense16.npy"
    np.save(dense_path, rng.random((16, *SHAPE), dtype=np.float32))  # overlapping weights

    configs: dict[str, dict[str, Any]] = {
        "bin2": {"kind": "bin", "bin": {"factor": 2}},
        "bin4": {"kind": "bin", "bin": {"factor": 4}},
        "virtual 32 label (4×8)": {"kind": "virtual"},
        "virtual 16 dense": {
            "kind": "virtual",
            "virtual": {"detectors": [{"kind": "custom", "path": str(dense_path)}]},
        },
    }
    maps = live_detectors(md)
    k_y, k_x = maps["ky"][:, 0].astype(np.float64), maps["kx"][0].astype(np.float64)
    comps = {
        name: Compressor(validate_config(c, CompressConfig), md, np.uint16)
        for name, c in configs.items()
    }
    none = Compressor(CompressConfig(kind="none"), md, np.uint16)
    for comp in [*comps.values(), none]:
        comp.warmup()

    def numpy_ref(name: str) -> Callable[[np.ndarray], Any]:
        if name.startswith("bin"):
            return lambda f: bin_numpy(f, int(name[3:]))
        if name == "com":
            return lambda f: moments_numpy(f, k_y, k_x)
        masks = comps[name].masks if name in comps else np.stack(list(maps.values()))
        return lambda f: masks_numpy(f, masks)

    bufs = {t: [np.empty_like(data[:BATCH]) for _ in range(t)] for t in (1, 2)}
    memcpy = {t: timed(lambda w, b, t=t: np.copyto(bufs[t][w], data[b]), t) for t in (1, 2)}

    table = Table(title=f"{N_FRAMES} frames {SHAPE[0]}×{SHAPE[1]} uint16, batches of {BATCH}")
    columns = (
        "mode", "threads", "frames/s", "GB/s in", "frames/CPU-s", "numpy frames/s", "× numpy",
        "time vs memcpy", "CPU vs memcpy", "bytes/frame", "compression", "256×256 scan",
    )  # fmt: skip
    for col in columns:
        table.add_column(col, justify="right")

    def add_row(name: str, t: int, wall: float, cpu: float, ref_fps: float, kept: int) -> None:
        fps = N_FRAMES / wall
        table.add_row(
            name,
            str(t),
            f"{fps:,.0f}",
            f"{N_FRAMES * RAW_BYTES / wall / 1e9:.1f}",
            f"{N_FRAMES / cpu:,.0f}",
            f"{ref_fps:,.0f}" if ref_fps else "",
            f"{fps / ref_fps:.0f}×" if ref_fps else "",
            f"{wall / memcpy[t][0]:.2f}",
            f"{cpu / memcpy[t][1]:.2f}",
            f"{kept:,}",
            f"{RAW_BYTES / kept:.0f}×",
            f"{SCAN_256 * kept / 1e6:,.1f} MB",
        )

    for t in (1, 2):
        add_row("memcpy", t, *memcpy[t], 0.0, RAW_BYTES)

    def run_compressor(comp: Compressor, t: int) -> tuple[float, float]:
        outs = [comp.empty_outputs(BATCH) for _ in range(t)]
        return timed(lambda w, b: comp.compress(data[b], *outs[w]), t)

    zero = np.int64(0)

    def run_com(t: int) -> tuple[float, float]:
        outs = [np.empty((BATCH, 3)) for _ in range(t)]
        return timed(lambda w, b: KERNELS["moments"](data[b], k_y, k_x, zero, outs[w]), t)

    def run_live(t: int) -> tuple[float, float]:
        outs = [np.empty((BATCH, 5)) for _ in range(t)]
        runs = none._runs.args()
        no_signals = np.empty((0, 0), np.float32)
        return timed(
            lambda w, b: KERNELS["label_live"](data[b], *runs, zero, no_signals, outs[w]), t
        )

    rows: list[tuple[str, Callable[[int], tuple[float, float]], int]] = [
        *(
            (
                name,
                lambda t, c=c: run_compressor(c, t),
                int(np.prod(c.out_shape)) * c.out_dtype.itemsize,
            )
            for name, c in comps.items()
        ),
        ("com (Σ I, Σ k I)", run_com, 3 * 8),
        ("live images alone", run_live, 5 * 8),
    ]
    ref_names = [*comps, "com", "live"]
    sample = data[:BATCH]
    for (name, run, kept), ref_name in zip(rows, ref_names, strict=True):
        ref = numpy_ref(ref_name)
        ref_best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            ref(sample)
            ref_best = min(ref_best, time.perf_counter() - t0)
        for t in (1, 2):
            add_row(name, t, *run(t), BATCH / ref_best, kept)
    console.print(table)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    console.print(
        "compression: raw bytes per frame over bytes kept, before the lossless codec; "
        "256×256 scan: data array size before the codec. Load average (1, 5, 15 min) at "
        f"the end: {load} on {os.cpu_count()} CPUs (other work shares them)."
    )


if __name__ == "__main__":
    main()
