"""``provenance verify`` throughput in GB/s against ``sha256sum`` of the same files, same run.

Builds a sealed store-sized artifact (a data directory of shard-sized files of random,
incompressible bytes, its manifest and its provenance record) and a child artifact that
used it, then times, with the files in the page cache (the verify cost, not the disk's):

- ``sha256sum`` (coreutils, one process) over every file: the baseline;
- ``verify_chain`` of the child with its ancestor, with 1 thread and one per core;
- ``sha256sum`` run by ``xargs -P`` with one process per core, and ``openssl dgst``
  (which, like Python's hashlib, uses the CPU's SHA instructions), for reference.

    python benchmarks/provenance_verify.py [--size-GB 1] [--file-MB 8] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ptyflow import provenance as prov
from ptyflow.provenance._hashing import default_threads


def _make_store(root: Path, size_bytes: int, file_bytes: int) -> list[Path]:
    """Shard-like files under ``root/data/c/...``, sealed: manifest and record."""
    files = []
    for i in range(max(1, size_bytes // file_bytes)):
        path = root / "data" / "c" / str(i // 16) / str(i % 16)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(file_bytes))
        files.append(path)
    manifest = prov.build_manifest(root, prov.HASH_EXCLUDES)
    record = prov.start_record("acquire", config={"benchmark": True}, command=["benchmark"])
    output = prov.ArtifactRef(path=str(root), content_hash=prov.tree_hash(manifest))
    prov.write_record(prov.finish_record(record, [output]), root / prov.RECORD_NAME)
    (root / prov.MANIFEST_NAME).write_text(json.dumps(manifest))
    return files


def _make_child(path: Path, store: Path) -> None:
    record = prov.start_record("reconstruct", inputs=[prov.artifact_ref(store)], command=["b"])
    path.write_bytes(b"phase")
    prov.write_record(prov.finish_record(record, [prov.artifact_ref(path)]), prov.record_path(path))


def _best_of(n: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-GB", type=float, default=1.0, help="store size [GB]")
    parser.add_argument("--file-MB", type=float, default=8.0, help="size of one shard [MB]")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: tmp)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(dir=args.dir))
    try:
        store = work / "scan.zarr"
        files = _make_store(store, int(args.size_GB * 1e9), int(args.file_MB * 1e6))
        child = work / "phase.npy"
        _make_child(child, store)
        n_bytes = sum(p.stat().st_size for p in files)
        names = [str(p) for p in files]
        cores = default_threads()

        def sha256sum() -> None:
            subprocess.run(["sha256sum", *names], check=True, stdout=subprocess.DEVNULL)

        def openssl() -> None:
            subprocess.run(
                ["openssl", "dgst", "-sha256", *names], check=True, stdout=subprocess.DEVNULL
            )

        def sha256sum_parallel() -> None:
            subprocess.run(
                ["xargs", "-0", "-P", str(cores), "-n", "8", "sha256sum"],
                input="\0".join(names).encode(),
                check=True,
                stdout=subprocess.DEVNULL,
            )

        def verify(threads: int) -> Callable[[], object]:
            def run() -> None:
                report = prov.verify_chain(child, threads=threads)
                assert report.ok, report.problems

            return run

        sha256sum()  # warm the page cache
        cases = [
            ("sha256sum, 1 process (baseline)", sha256sum),
            ("verify --ancestors, 1 thread", verify(1)),
            (f"verify --ancestors, {cores} threads", verify(cores)),
            (f"sha256sum, {cores} processes (xargs -P)", sha256sum_parallel),
        ]
        if shutil.which("openssl"):  # uses the CPU's SHA instructions, as hashlib does
            cases.append(("openssl dgst -sha256, 1 process", openssl))
        seconds = {label: _best_of(args.repeats, run) for label, run in cases}
        base = seconds[cases[0][0]]
        print(f"{len(files)} files, {n_bytes / 1e9:.2f} GB, page cache warm, {cores} core(s)\n")
        print(f"| {'what':<40} | {'s':>6} | {'GB/s':>6} | {'vs sha256sum':>12} |")
        print(f"|{'-' * 42}|{'-' * 8}|{'-' * 8}|{'-' * 14}|")
        for label, s in seconds.items():
            print(f"| {label:<40} | {s:6.2f} | {n_bytes / s / 1e9:6.2f} | {base / s:11.2f}× |")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
