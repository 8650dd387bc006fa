"""Throughput of ``ptyflow acquire`` against ``ptyflow emulate``, each in its own process.

The emulator sends 65,536 frames of 96×96 uint16 bslz4-compressed sparse diffraction
(stream v1) over tcp loopback, flat out. Baseline, measured in the same run against the
same emulator: a bare pyzmq loop that only receives and counts with ``recv_multipart``.
For each compression (none, bin2, bin4, virtual with 32 segments) the daemon runs twice:

- ``output.write = false``: receive + decode + compress only;
- a full run: first frame to sealed store (end to end), frames lost, peak RSS, and the
  daemon's CPU seconds per 1k frames in each stage (from the store's provenance record).

Not a test: run ``python benchmarks/acquire_throughput.py [--frames N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import zmq
from rich.console import Console
from rich.table import Table

from ptyflow import testing
from ptyflow.acquire import fetch_status
from ptyflow.provenance import read_record

SRC = Path(__file__).resolve().parents[1] / "src"
KINDS = {
    "none": 'kind = "none"',
    "bin2": 'kind = "bin"\n[compress.bin]\nfactor = 2',
    "bin4": 'kind = "bin"\n[compress.bin]\nfactor = 4',
    "virtual32": 'kind = "virtual"',  # default: 4 rings × 8 segments
}
CONFIG = """\
[receive]
endpoint = "{endpoint}"
series_timeout_s = 600.0  # the machine is shared: a long stall must not end the series
[beam]
energy_eV = 300000.0
semiangle_mrad = 21.4
[scan]
shape = [{ny}, 256]
step_A = [0.4, 0.4]
[detector]
pixel_size_inv_A = 0.05
[compress]
{compress}
[output]
directory = "{out}"
write = {write}
[status]
progress = "off"
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}


def _ptyflow(*args: str | Path) -> subprocess.Popen[str]:
    return testing.start_cli(*args, env=_env())


def _emulator(n_frames: int) -> tuple[subprocess.Popen[str], str]:
    proc = _ptyflow("emulate", "--scan-shape", str(n_frames // 256), "256",
                    "--frame-shape", "96", "96", "--distinct", "256")  # fmt: skip
    assert proc.stdout is not None
    return proc, proc.stdout.readline().split(" ", 1)[1].strip()


def _emulator_rate(proc: subprocess.Popen[str]) -> float:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return float(json.loads(out.strip().splitlines()[-1])["frames_per_s"])


def bare_loop(n_frames: int) -> tuple[float, float]:
    """Frames/s of a loop that only receives and counts, and the emulator's send rate."""
    proc, endpoint = _emulator(n_frames)
    sock = zmq.Context.instance().socket(zmq.PULL)
    sock.setsockopt(zmq.RCVHWM, 4096)
    sock.connect(endpoint)
    n, t0 = 0, 0.0
    while True:
        parts = sock.recv_multipart()
        if len(parts) == 4:
            n += 1
            if n == 1:
                t0 = time.perf_counter()
        elif b"dseries_end" in parts[0]:
            break
    rate = (n - 1) / (time.perf_counter() - t0)
    sock.close()
    return rate, _emulator_rate(proc)


def daemon_run(kind: str, write: bool, n_frames: int, tmp: Path) -> dict[str, Any]:
    emu, endpoint = _emulator(n_frames)
    out = tmp / f"{kind}-{write}"
    cfg = tmp / f"{kind}-{write}.toml"
    cfg.write_text(CONFIG.format(endpoint=endpoint, ny=n_frames // 256, compress=KINDS[kind],
                                 out=out, write=str(write).lower()))  # fmt: skip
    daemon = _ptyflow("acquire", "--config", cfg)
    summary: dict[str, Any] | None = None
    deadline = time.monotonic() + 600
    while summary is None and time.monotonic() < deadline:
        time.sleep(0.2)
        if daemon.poll() is not None:
            emu.kill()
            raise RuntimeError(f"{kind}: the daemon exited: {daemon.communicate()[1][-2000:]}")
        try:
            summary = fetch_status(out)["last_series"]
        except Exception:
            continue
    send_rate = _emulator_rate(emu)
    daemon.terminate()
    daemon.communicate(timeout=60)
    assert summary is not None, f"{kind}: the daemon closed no series"
    result = {"summary": summary, "send_rate": send_rate}
    if write:
        record = read_record(Path(summary["store"]))
        assert record.ended_utc is not None
        result["end_to_end_s"] = (record.ended_utc - record.started_utc).total_seconds()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=65536, help="a multiple of 256")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=list(KINDS))
    args = parser.parse_args()
    console = Console(width=160)
    bare, bare_send = bare_loop(args.frames)
    console.print(
        f"bare recv_multipart loop: {bare:,.0f} frames/s (emulator sent {bare_send:,.0f}/s)"
    )
    table = Table(
        title=f"ptyflow acquire, {args.frames:,} frames 96×96 uint16 bslz4, stream v1, tcp"
    )
    for col in ("compress", "emulator /s (paced)", "recv+decode+compress /s", "vs bare",
                "end to end /s", "vs bare", "lost", "peak RSS MB",
                "CPU s/1k: receive", "decode", "compress", "write"):  # fmt: skip
        table.add_column(col, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds:
            dry = daemon_run(kind, False, args.frames, Path(tmp))
            full = daemon_run(kind, True, args.frames, Path(tmp))
            counts, timing = full["summary"]["counts"], full["summary"]["timing"]
            ingest = dry["summary"]["timing"]["frames_per_s"]
            e2e = counts["received"] / full["end_to_end_s"]
            cpu = {k: v / counts["received"] * 1000 for k, v in timing["cpu_s_by_stage"].items()}
            lost, rss_MB = counts["expected"] - counts["received"], timing["peak_rss_bytes"] / 1e6
            table.add_row(
                kind, f"{min(dry['send_rate'], full['send_rate']):,.0f}",
                f"{ingest:,.0f}", f"{ingest / bare:.2f}×", f"{e2e:,.0f}", f"{e2e / bare:.2f}×",
                str(lost), f"{rss_MB:,.0f}",
                *(f"{cpu[s]:.3f}" for s in ("receive", "decode", "compress", "write")),
            )  # fmt: skip
            console.print(f"{kind}: done")
    console.print(table)
    console.print(
        "recv+decode+compress: the daemon with output.write = false, first to last frame; "
        "end to end: first frame to the sealed store (provenance record times); CPU: the "
        "daemon's thread CPU time per stage, all threads summed; 'vs bare' is over the bare "
        "recv_multipart loop measured in this run; the emulator's rate in a daemon run is paced "
        "by the daemon's backpressure. Emulator and daemon share the 2 cores."
    )


if __name__ == "__main__":
    main()
