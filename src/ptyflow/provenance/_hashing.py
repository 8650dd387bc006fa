"""Content hashes: of files, of directory trees via their manifest.

A directory's content hash is a *tree hash* over its manifest (sorted relative posix path
plus each file's SHA-256), so it depends only on file contents and relative paths: it is
identical after rsync, a copy, or a move, whatever the timestamps and absolute paths.

Files are hashed in parallel threads: hashlib releases the GIL while it digests a block,
so threads scale with cores (and overlap reads with hashing) without processes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypedDict

from ptyflow.errors import ProvenanceError

__all__ = [
    "HASH_PREFIX",
    "ManifestEntry",
    "build_manifest",
    "default_threads",
    "hash_files",
    "list_files",
    "sha256_file",
    "tree_hash",
]

HASH_PREFIX = "sha256:"
_BLOCK_BYTES = 1 << 20  # 1 MiB reads keep memory flat for any file size

#: Called with the number of bytes just hashed (a progress bar's ``advance``).
OnBytes = Callable[[int], None]


class ManifestEntry(TypedDict):
    sha256: str
    size_bytes: int


def sha256_file(path: str | Path, on_bytes: OnBytes | None = None) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks into one reused buffer."""
    digest = hashlib.sha256()
    buffer = bytearray(_BLOCK_BYTES)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            digest.update(view[:n])
            if on_bytes is not None:
                on_bytes(n)
    return digest.hexdigest()


def default_threads() -> int:
    """One hashing thread per core the process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def hash_files(
    paths: Sequence[Path], *, threads: int | None = None, on_bytes: OnBytes | None = None
) -> list[str]:
    """Hex SHA-256 of each file, in the order given, hashed by ``threads`` threads."""
    workers = max(1, threads or default_threads())
    if workers == 1 or len(paths) < 2:
        return [sha256_file(p, on_bytes) for p in paths]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sha256") as pool:
        return list(pool.map(lambda p: sha256_file(p, on_bytes), paths))


def list_files(root: str | Path, exclude: Collection[str] = ()) -> dict[str, Path]:
    """Every regular file under ``root`` by posix path relative to it, sorted, minus ``exclude``.

    Symbolic links are refused (:class:`ProvenanceError`): an artifact carries its own bytes.
    One ``scandir`` per directory (a store has hundreds of shard files: no stat per file).
    """
    root = Path(root)
    found: list[tuple[str, str]] = []
    todo = [(str(root), "")]
    while todo:
        directory, prefix = todo.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_symlink():
                    raise ProvenanceError(
                        f"{entry.path}: symbolic links are not allowed inside an artifact"
                    )
                if entry.is_dir(follow_symlinks=False):
                    todo.append((entry.path, rel + "/"))
                elif entry.is_file(follow_symlinks=False) and rel not in exclude:
                    found.append((rel, entry.path))
    return {rel: Path(path) for rel, path in sorted(found)}


def build_manifest(
    root: str | Path,
    exclude: Collection[str] = (),
    *,
    threads: int | None = None,
    on_bytes: OnBytes | None = None,
    known: Mapping[str, ManifestEntry] | None = None,
) -> dict[str, ManifestEntry]:
    """Map every regular file under ``root`` (posix path relative to it) to its hash and size.

    ``exclude`` lists relative paths to leave out (the manifest and record files themselves).
    ``known``: entries the caller hashed as it wrote those files; they are taken as they are
    (their size checked), the other files are read and hashed.
    """
    files = list_files(root, exclude)
    known = known or {}
    sizes = {rel: path.stat().st_size for rel, path in files.items()}
    todo = [rel for rel in files if rel not in known or known[rel]["size_bytes"] != sizes[rel]]
    digests = hash_files([files[rel] for rel in todo], threads=threads, on_bytes=on_bytes)
    fresh = dict(zip(todo, digests, strict=True))
    return {
        rel: {"sha256": fresh[rel] if rel in fresh else known[rel]["sha256"], "size_bytes": size}
        for rel, size in sizes.items()
    }


def tree_hash(manifest: Mapping[str, Mapping[str, object]]) -> str:
    """``sha256:<hex>`` over the sorted ``path\\0sha256\\n`` lines of a manifest."""
    digest = hashlib.sha256()
    for rel in sorted(manifest):
        digest.update(f"{rel}\0{manifest[rel]['sha256']}\n".encode())
    return HASH_PREFIX + digest.hexdigest()
