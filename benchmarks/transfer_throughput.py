"""Transfer throughput: ptyflow (send + server-side verification + record) vs plain rsync.

One sealed store of about 1 GB in about 300 shards goes, in the same run, over the same
private sshd on 127.0.0.1:

1. ``rsync -a`` of the store directory with ssh's default cipher: the baseline;
2. ``rsync -a`` with ptyflow's ssh cipher (aes128-gcm), so the cipher's share is visible;
3. ``ptyflow transfer`` (the daemon's full path: queue, rsync with --partial-dir, sha256sum
   of every file on the server, comparison with the manifest and the tree hash, the
   transfer record written there).

Each variant runs ``--repeats`` times into a fresh destination (the page cache is warm for
all after the first); the table shows the best time of each and throughput relative to the
baseline (ratio = baseline time / variant time; target >= 0.9).
Frames are uniform 16-bit noise, so the codec cannot shrink them: the bytes on disk are
what moves. Usage:
    PYTHONPATH=src python benchmarks/transfer_throughput.py [--size-GB 1.0] [--repeats 2]
        [--store EXISTING.zarr]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ptyflow.config import validate_config
from ptyflow.config.transfer import TransferConfig
from ptyflow.dataset import create_dataset
from ptyflow.provenance import start_record
from ptyflow.testing import make_metadata
from ptyflow.testing.sshd import PrivateSshd
from ptyflow.transfer import State, Transfer

_SHARD = 16  # scan positions per shard side (the store default)
_FRAME = 80  # detector pixels per side: 12.8 kB per uint16 frame


def make_store(path: Path, size_GB: float) -> Path:
    """A sealed store of about ``size_GB`` of incompressible frames, written row by row."""
    n_shards_side = max(1, round((size_GB * 1e9 / (_SHARD**2 * _FRAME**2 * 2)) ** 0.5))
    scan = n_shards_side * _SHARD
    metadata = make_metadata((scan, scan), (_FRAME, _FRAME), bit_depth=16, source="benchmark")
    rng = np.random.default_rng(0)
    record = start_record("acquire", command=["transfer_throughput.py"])
    with create_dataset(path, metadata, dtype=np.uint16, record=record) as writer:
        for row in range(0, scan, _SHARD):
            block = rng.integers(0, 2**16, (_SHARD * scan, _FRAME, _FRAME), dtype=np.uint16)
            writer.write_frames(row * scan, block)
    return path


def _plain_rsync(store: Path, sshd: PrivateSshd, dest: Path, cipher: str | None) -> float:
    ssh = sshd.ssh_command() + (["-c", cipher] if cipher else [])
    t0 = time.perf_counter()
    subprocess.run(
        ["rsync", "-a", "-e", " ".join(ssh), f"{store}/", sshd.target(dest)],
        check=True,
    )
    return time.perf_counter() - t0


def _ptyflow(store: Path, sshd: PrivateSshd, root: Path, work: Path) -> float:
    config = validate_config(
        {
            "source": {"watch_dir": str(store.parent), "queue_db": str(work / "queue.sqlite")},
            "destination": {
                "target": sshd.target(root),
                "ssh_port": sshd.port,
                "ssh_identity": str(sshd.user_key),
                "known_hosts": str(sshd.known_hosts),
            },
        },
        TransferConfig,
    )
    t0 = time.perf_counter()
    with Transfer(config) as transfer:
        transfer.run(exit_when_idle=True)
    seconds = time.perf_counter() - t0
    item = transfer.queue.get(store.name)
    assert item is not None and item.state is State.VERIFIED, item
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-GB", type=float, default=1.0, help="store size (default 1)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each variant")
    parser.add_argument(
        "--store",
        type=Path,
        help="an existing sealed store to send (alone in its directory); default: write one",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ptyflow-bench-transfer-") as tmp:
        work = Path(tmp)
        (work / "acq").mkdir()
        t0 = time.perf_counter()
        store = args.store or make_store(work / "acq" / "bench.zarr", args.size_GB)
        files = [p for p in store.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        shards = len(list((store / "data" / "c").rglob("*")))
        print(
            f"store: {size / 1e9:.2f} GB in {len(files)} files ({shards} shards and dirs "
            f"under data/c), ready in {time.perf_counter() - t0:.1f} s"
        )
        best: dict[str, float] = {}
        with PrivateSshd(work / "sshd") as sshd:
            for i in range(args.repeats):
                runs = {
                    "rsync -a (ssh default cipher)": lambda d: _plain_rsync(store, sshd, d, None),
                    "rsync -a (aes128-gcm)": lambda d: _plain_rsync(
                        store, sshd, d, "aes128-gcm@openssh.com"
                    ),
                    "ptyflow transfer incl. verification": lambda d: _ptyflow(
                        store, sshd, d, d.parent
                    ),
                }
                for label, run in runs.items():
                    dest = work / f"dest-{i}-{len(best)}-{abs(hash(label))}" / "root"
                    dest.parent.mkdir()
                    seconds = run(dest)
                    best[label] = min(best.get(label, seconds), seconds)
                    shutil.rmtree(dest.parent)
        base = best["rsync -a (ssh default cipher)"]
        print(f"\n{'variant':<40} {'s':>7} {'MB/s':>8} {'ratio':>7}")
        for label, seconds in best.items():
            print(f"{label:<40} {seconds:7.2f} {size / seconds / 1e6:8.1f} {base / seconds:7.2f}")
        print("\nratio = plain rsync -a (default cipher) time / variant time; target >= 0.9")


if __name__ == "__main__":
    main()
