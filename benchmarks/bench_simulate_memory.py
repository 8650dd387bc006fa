"""A ~1 GB simulated store, written without holding the data twice: time, throughput, peak RSS.

The data never sits in memory whole: frames are made a scan row at a time and the writer
keeps about one band of shards. This prints the peak resident memory of the process next to
the raw size of the store, with a baseline measured in the same run: the peak RSS after
just importing and planning (the simulator's fixed cost).

    python benchmarks/bench_simulate_memory.py [--scan 128] [--detector 128] [--out DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from ptyflow.config import validate_config
from ptyflow.config.simulate import SimulateConfig
from ptyflow.dataset import open_dataset
from ptyflow.simulate import plan_simulation, run_simulation


def _peak_rss_MB() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan", type=int, default=128, help="scan positions per side")
    parser.add_argument("--detector", type=int, default=128, help="detector pixels per side")
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: tmp)")
    args = parser.parse_args()
    # A thin graphene sheet keeps the multislice cheap: this measures the store path.
    cfg = validate_config(
        {
            "beam": {"energy_eV": 80e3, "semiangle_mrad": 25.0, "aberrations": {"C10_A": -50.0}},
            "specimen": {"kind": "crystal", "crystal": "graphene", "repeats": [20, 12, 1]},
            "scan": {"shape": [args.scan, args.scan], "step_A": [0.2, 0.2]},
            "detector": {"shape": [args.detector, args.detector], "pixel_size_inv_A": 0.04},
            "dose": {"dose_e_per_A2": 1e5, "poisson_noise": True, "seed": 0},
            "numerics": {"oversampling": 1, "batch_size": 64},
        },
        SimulateConfig,
    )
    plan_simulation(cfg)
    baseline_MB = _peak_rss_MB()
    out_dir = Path(tempfile.mkdtemp(dir=args.out))
    try:
        t0 = time.perf_counter()
        result = run_simulation(cfg, out_dir / "big.zarr", progress=True)
        seconds = time.perf_counter() - t0
        peak_MB = _peak_rss_MB()
        ds = open_dataset(result.store)
        raw_MB = (
            ds.frames_received.size
            * ds.dtype.itemsize
            * int(ds.frame_shape[0] * ds.frame_shape[1])
            / 1e6
        )
        disk_MB = sum(p.stat().st_size for p in result.store.rglob("*") if p.is_file()) / 1e6
    finally:
        shutil.rmtree(out_dir)
    print(f"\n{args.scan}×{args.scan} scan, {args.detector}×{args.detector} uint32 frames\n")
    print("| quantity | value | ratio |")
    print("|---|---|---|")
    print(f"| raw data size | {raw_MB:,.0f} MB | 1.00 |")
    print(f"| on disk (Blosc zstd 1 + bitshuffle) | {disk_MB:,.0f} MB | {disk_MB / raw_MB:.3f} |")
    print(
        f"| peak RSS after import + plan (baseline) | {baseline_MB:,.0f} MB | "
        f"{baseline_MB / raw_MB:.2f} |"
    )
    print(f"| peak RSS of the whole run | {peak_MB:,.0f} MB | {peak_MB / raw_MB:.2f} |")
    print(
        f"| peak RSS added by simulating + writing | {peak_MB - baseline_MB:,.0f} MB | "
        f"{(peak_MB - baseline_MB) / raw_MB:.2f} |"
    )
    print(f"| wall time | {seconds:.1f} s | {raw_MB / seconds:,.0f} MB/s raw |")


if __name__ == "__main__":
    main()
