"""Content hashes: of files, of directory trees via their manifest.

A directory's content hash is a *tree hash* over its manifest (sorted relative posix path
plus each file's SHA-256), so it depends only on file contents and relative paths: it is
identical after rsync, a copy, or a move, whatever the timestamps and absolute paths.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TypedDict

from ptyflow.errors import ProvenanceError

__all__ = [
    "HASH_PREFIX",
    "ManifestEntry",
    "build_manifest",
    "sha256_file",
    "tree_hash",
]

HASH_PREFIX = "sha256:"
_BLOCK_BYTES = 1 << 20  # 1 MiB reads keep memory flat for any file size


class ManifestEntry(TypedDict):
    sha256: str
    size_bytes: int


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(root: str | Path, exclude: Collection[str] = ()) -> dict[str, ManifestEntry]:
    """Map every regular file under ``root`` (posix path relative to it) to its hash and size.

    ``exclude`` lists relative paths to leave out (the manifest and record files themselves).
    Symbolic links are refused (:class:`ProvenanceError`): an artifact carries its own bytes.
    """
    root = Path(root)
    manifest: dict[str, ManifestEntry] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            raise ProvenanceError(f"{path}: symbolic links are not allowed inside an artifact")
        if not path.is_file() or rel in exclude:
            continue
        manifest[rel] = {"sha256": sha256_file(path), "size_bytes": path.stat().st_size}
    return manifest


def tree_hash(manifest: Mapping[str, Mapping[str, object]]) -> str:
    """``sha256:<hex>`` over the sorted ``path\\0sha256\\n`` lines of a manifest."""
    digest = hashlib.sha256()
    for rel in sorted(manifest):
        digest.update(f"{rel}\0{manifest[rel]['sha256']}\n".encode())
    return HASH_PREFIX + digest.hexdigest()
