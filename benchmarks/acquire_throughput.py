"""Throughput of ``ptyflow acquire`` against ``ptyflow emulate``, each in its own process.

The emulator sends 65,536 frames of 96×96 uint16 bslz4-compressed sparse diffraction
(stream v1) over tcp loopback, flat out. Baseline, measured in the same run against the
same emulator: a bare pyzmq loop that only receives and counts with ``recv_multipart``.
The emulator's own rate is measured into a compiled drain (libzmq from Numba, counting
only), so the receiver is not what limits it. For each compression (none, bin2, bin4,
virtual with 32 segments) the daemon runs three times:

- ``output.write = false``: receive + decode + compress only, with ``verify_hash`` on
  (the default: MD5 of every blob) and off;
- a full run (defaults): first frame to sealed store (end to end), frames lost, peak RSS,
  and the daemon's CPU seconds per 1k frames in each stage (from the provenance record).

CPU seconds per 1k frames are the figures to compare between runs on a shared machine;
frames/s depend on what else runs. Besides the stages: the whole daemon process (ZeroMQ's
I/O thread and the shard-writing threads included) and the emulator, which shares the
two cores. The machine's load average is printed with each row.

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

import numpy as np
import zmq
from rich.console import Console
from rich.table import Table

from ptyflow import testing
from ptyflow.acquire import fetch_status
from ptyflow.acquire._native_zmq import NativeReceiver
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
verify_hash = {verify_hash}
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


def _emulator_stats(proc: subprocess.Popen[str]) -> dict[str, Any]:
    """What the emulator reports on exit: frames_per_s, frames_sent, cpu_s, …"""
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


def _emulator_rate(proc: subprocess.Popen[str]) -> float:
    return float(_emulator_stats(proc)["frames_per_s"])


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


def compiled_drain(n_frames: int) -> tuple[float, float]:
    """Like ``bare_loop`` with the daemon's compiled receive loop (no decoding)."""
    sock = zmq.Context.instance().socket(zmq.PULL)
    sock.setsockopt(zmq.RCVHWM, 4096)
    receiver = NativeReceiver(sock, 256)
    receiver.receive()  # load the kernel before connecting (the emulator waits for us)
    proc, endpoint = _emulator(n_frames)
    sock.connect(endpoint)
    n, t0, ended = 0, 0.0, False
    while not ended:
        batch = receiver.receive()
        if not len(batch):
            sock.poll(100)
            continue
        n_parts = np.diff(batch.msg_part0[: batch.n + 1])
        if n == 0:
            t0 = time.perf_counter()
        n += int((n_parts == 4).sum())
        ended = any(b"dseries_end" in batch.parts(int(i))[0] for i in np.flatnonzero(n_parts == 1))
    rate = n / (time.perf_counter() - t0)
    sock.close()
    return rate, _emulator_rate(proc)


def daemon_run(kind: str, write: bool, n_frames: int, tmp: Path, verify_hash: bool = True
               ) -> dict[str, Any]:  # fmt: skip
    emu, endpoint = _emulator(n_frames)
    out = tmp / f"{kind}-{write}-{verify_hash}"
    cfg = tmp / f"{kind}-{write}-{verify_hash}.toml"
    cfg.write_text(CONFIG.format(endpoint=endpoint, ny=n_frames // 256, compress=KINDS[kind],
                                 out=out, write=str(write).lower(),
                                 verify_hash=str(verify_hash).lower()))  # fmt: skip
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
    sender = _emulator_stats(emu)
    daemon.terminate()
    daemon.communicate(timeout=60)
    assert summary is not None, f"{kind}: the daemon closed no series"
    result = {"summary": summary, "send_rate": sender["frames_per_s"], "sender": sender}
    if write:
        record = read_record(Path(summary["store"]))
        assert record.ended_utc is not None
        result["end_to_end_s"] = (record.ended_utc - record.started_utc).total_seconds()
    return result


def _per_1k(result: dict[str, Any]) -> dict[str, float]:
    """CPU seconds per 1k received frames: by stage, the whole daemon, the emulator."""
    n, timing = result["summary"]["counts"]["received"], result["summary"]["timing"]
    seconds = {
        **timing["cpu_s_by_stage"],
        "daemon": timing["process_cpu_s"],
        "emulator": result["sender"]["cpu_s"],
    }
    return {k: v / n * 1000 for k, v in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=65536, help="a multiple of 256")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=list(KINDS))
    args = parser.parse_args()
    console = Console(width=200)
    console.print(f"load average at the start: {os.getloadavg()[0]:.2f} (2 cores)")
    bare, bare_send = bare_loop(args.frames)
    console.print(
        f"bare recv_multipart loop: {bare:,.0f} frames/s (emulator sent {bare_send:,.0f}/s)"
    )
    drain, emu_rate = compiled_drain(args.frames)
    console.print(
        f"compiled receive loop, counting only: {drain:,.0f} frames/s ({drain / bare:.2f}× bare); "
        f"emulator flat out: {emu_rate:,.0f} frames/s"
    )
    table = Table(
        title=f"ptyflow acquire, {args.frames:,} frames 96×96 uint16 bslz4, stream v1, tcp"
    )
    for col in ("compress", "load", "recv+decode+compress /s", "vs bare", "no hash /s",
                "vs bare", "end to end /s", "vs bare", "lost", "peak RSS MB",
                "CPU s/1k: receive", "decode", "(no hash)", "compress", "write",
                "daemon dry", "daemon full", "emulator"):  # fmt: skip
        table.add_column(col, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds:
            load = os.getloadavg()[0]
            dry = daemon_run(kind, False, args.frames, Path(tmp))
            fast = daemon_run(kind, False, args.frames, Path(tmp), verify_hash=False)
            full = daemon_run(kind, True, args.frames, Path(tmp))
            counts = full["summary"]["counts"]
            ingest = dry["summary"]["timing"]["frames_per_s"]
            no_hash = fast["summary"]["timing"]["frames_per_s"]
            e2e = counts["received"] / full["end_to_end_s"]
            cpu, cpu_fast, cpu_dry = _per_1k(full), _per_1k(fast), _per_1k(dry)
            lost = counts["expected"] - counts["received"]
            rss_MB = full["summary"]["timing"]["peak_rss_bytes"] / 1e6
            table.add_row(
                kind, f"{(load + os.getloadavg()[0]) / 2:.1f}",
                f"{ingest:,.0f}", f"{ingest / bare:.2f}×",
                f"{no_hash:,.0f}", f"{no_hash / bare:.2f}×",
                f"{e2e:,.0f}", f"{e2e / bare:.2f}×", str(lost), f"{rss_MB:,.0f}",
                f"{cpu['receive']:.4f}", f"{cpu['decode']:.4f}", f"{cpu_fast['decode']:.4f}",
                f"{cpu['compress']:.4f}", f"{cpu['write']:.4f}",
                f"{cpu_dry['daemon']:.4f}", f"{cpu['daemon']:.4f}", f"{cpu_dry['emulator']:.4f}",
            )  # fmt: skip
            console.print(f"{kind}: done")
    console.print(table)
    console.print(
        "recv+decode+compress: the daemon with output.write = false, first to last frame "
        "(MD5 of each blob checked, the default; 'no hash': verify_hash = false); end to end: "
        "first frame to the sealed store (provenance record times); CPU: the daemon's thread "
        "CPU time per stage and frame, all threads summed, from the full run ('(no hash)': "
        "decode without MD5); daemon dry/full: the whole daemon process per 1k frames (all its "
        "threads: ZeroMQ I/O and shard writing too) in the dry and the full run; emulator: its "
        "process in the dry run; 'vs bare' is over the bare recv_multipart loop measured in this "
        "run; load: the 1-minute load average around the row. Emulator and daemon share the "
        "2 cores."
    )


if __name__ == "__main__":
    main()
