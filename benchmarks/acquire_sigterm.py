"""SIGTERM to exit of ``ptyflow acquire`` with a series left open (target ≤ 2 s).

The emulator (own process) sends the first ``--frames`` (default 3,000) frames of a
16×256 scan of 96×96 uint16 and stops mid-series; once the daemon reports them all
received, it gets SIGTERM and must flush what is buffered and seal the store. Printed:
the seconds from the signal to the daemon's exit, for each compression, and the store's
state and frames kept. Not a test: ``python benchmarks/acquire_sigterm.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from acquire_throughput import CONFIG, KINDS, _ptyflow
from ptyflow.acquire import fetch_status
from ptyflow.dataset import open_dataset


def sigterm_to_exit_s(kind: str, n_frames: int, out: Path) -> tuple[float, str, int]:
    emu = _ptyflow("emulate", "--scan-shape", "16", "256", "--frame-shape", "96", "96",
                   "--distinct", "256", "--stop-after", str(n_frames))  # fmt: skip
    assert emu.stdout is not None
    endpoint = emu.stdout.readline().split(" ", 1)[1].strip()
    cfg = out.with_suffix(".toml")
    cfg.write_text(CONFIG.format(endpoint=endpoint, ny=16, compress=KINDS[kind], out=out,
                                 write="true"))  # fmt: skip
    daemon = _ptyflow("acquire", "--config", cfg)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            if fetch_status(out)["frames_received"] >= n_frames:
                break
        except Exception:
            if daemon.poll() is not None:
                raise RuntimeError(daemon.communicate()[1][-2000:]) from None
    t0 = time.perf_counter()
    daemon.send_signal(signal.SIGTERM)
    daemon.communicate(timeout=120)
    seconds = time.perf_counter() - t0
    emu.communicate(timeout=60)
    ds = open_dataset(out / "series-000001.zarr")
    return seconds, ds.state.value, int(ds.frames_received.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kinds", nargs="*", default=["none", "bin4"], choices=list(KINDS))
    args = parser.parse_args()
    table = Table(title=f"SIGTERM → exit, open series of {args.frames:,} frames 96×96 uint16")
    for col in ("compress", "best s", "median s", "state", "frames kept"):
        table.add_column(col, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds:
            runs = [
                sigterm_to_exit_s(kind, args.frames, Path(tmp) / f"{kind}-{i}")
                for i in range(args.repeat)
            ]
            times = sorted(r[0] for r in runs)
            table.add_row(kind, f"{times[0]:.2f}", f"{times[len(times) // 2]:.2f}",
                          runs[-1][1], f"{runs[-1][2]:,}")  # fmt: skip
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
