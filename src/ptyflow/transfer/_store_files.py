"""What a store on the microscope PC holds, and which of its names are safe to send.

A store is a directory in the watched folder; it is *sealed* once ``manifest.json`` exists
(written last). The manifest says exactly which files belong to it, so exactly those (plus
the manifest and the provenance record) are sent, and every name is checked first: nothing
may land outside the store's directory on the server.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ptyflow.errors import ProvenanceError, TransferError
from ptyflow.provenance import (
    MANIFEST_NAME,
    RECORD_NAME,
    ManifestEntry,
    read_record,
    sha256_file,
    tree_hash,
)

__all__ = [
    "SealedStore",
    "early_files",
    "find_stores",
    "is_sealed",
    "manifest_tree_hash",
    "read_sealed",
    "safe_name",
    "source_hash_matches",
]

#: Left alone in the watched folder: hidden entries (the queue lives in one) and temp names.
_SKIP_SUFFIXES = (".partial",)


def safe_name(name: str, where: str) -> str:
    """``name`` if it is a relative posix path that stays inside its root, else a clear error.

    ``where`` says what is being named (the store, the manifest) for the message.
    """
    path = PurePosixPath(name)
    problem = None
    if not name or name != name.strip("\0") or "\0" in name:
        problem = "is empty or holds a NUL byte"
    elif path.is_absolute():
        problem = "is an absolute path"
    elif any(part in {"..", "."} for part in path.parts) or str(path) != name:
        problem = "holds '..' or '.' components"
    elif "\\" in name or "\n" in name:
        problem = "holds a backslash or a newline"
    if problem:
        raise TransferError(
            f"{where}: the name {name!r} {problem}; it could escape the destination root, "
            "so it is refused"
        )
    return name


def is_sealed(store: Path) -> bool:
    return (store / MANIFEST_NAME).is_file()


def find_stores(watch_dir: Path) -> list[Path]:
    """The directories in ``watch_dir`` that may hold stores (hidden and temp names skipped)."""
    if not watch_dir.is_dir():
        raise TransferError(f"{watch_dir}: the watched directory does not exist")
    return sorted(
        p
        for p in watch_dir.iterdir()
        if not p.name.startswith(".") and not p.name.endswith(_SKIP_SUFFIXES) and p.is_dir()
    )


@dataclass(frozen=True)
class SealedStore:
    """A sealed store as the manifest describes it, with every name checked."""

    path: Path
    manifest: dict[str, ManifestEntry]
    #: The manifest and record files: not in the manifest, sent and checked all the same.
    meta_hashes: dict[str, str]
    record_id: str | None
    record_hash: str | None = None  # of the store's record: the transfer record links to it

    @property
    def content_hash(self) -> str:
        return tree_hash(self.manifest)

    @property
    def size_bytes(self) -> int:
        return sum(e["size_bytes"] for e in self.manifest.values())

    def expected(self) -> dict[str, str]:
        """Every file the server must hold, relative path → sha256."""
        return {**{k: v["sha256"] for k, v in self.manifest.items()}, **self.meta_hashes}


def read_sealed(store: Path) -> SealedStore:
    """Read and check a sealed store: a valid manifest, safe names, no links pointing out."""
    safe_name(store.name, f"store {store}")
    if store.is_symlink():
        raise TransferError(f"{store}: the store is a symbolic link; refused")
    manifest_path = store / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_bytes())
        entries = {
            str(k): ManifestEntry(sha256=str(v["sha256"]), size_bytes=int(v["size_bytes"]))
            for k, v in manifest.items()
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
        raise TransferError(f"{manifest_path}: not a valid manifest ({err})") from None
    root = store.resolve()
    for rel in entries:
        safe_name(rel, str(manifest_path))
        if rel in (MANIFEST_NAME, RECORD_NAME):
            raise TransferError(f"{manifest_path}: lists {rel!r}, which it must leave out")
        local = store / rel
        if local.is_symlink() or not local.resolve().is_relative_to(root):
            raise TransferError(
                f"{local}: a symbolic link (or a link in its path) pointing out of the store; "
                "a store must carry its own bytes, so it is refused"
            )
        if not local.is_file():
            raise TransferError(f"{local}: listed in {manifest_path} but missing")
    meta = {MANIFEST_NAME: sha256_file(manifest_path)}
    record = None
    if (store / RECORD_NAME).is_file():
        meta[RECORD_NAME] = sha256_file(store / RECORD_NAME)
        try:
            record = read_record(store / RECORD_NAME)
        except ProvenanceError as err:
            raise TransferError(f"{store}: its provenance record is unreadable: {err}") from None
    if record is None:
        return SealedStore(store, entries, meta, None)
    return SealedStore(store, entries, meta, record.record_id, record.record_hash)


def manifest_tree_hash(store: Path) -> str | None:
    """The tree hash the store's manifest describes now (None if unreadable or absent)."""
    try:
        return tree_hash(json.loads((store / MANIFEST_NAME).read_bytes()))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def early_files(store: Path, min_age_s: float) -> list[str]:
    """Shard files of a store still being written that have not changed for ``min_age_s``.

    Only ``data/`` shards qualify (metadata changes until the store is sealed); a shard
    rewritten later is simply sent again by the final pass, which verification checks.
    """
    data = store / "data"
    if not data.is_dir():
        return []
    cutoff = time.time() - min_age_s
    out = []
    for path in sorted(data.rglob("*")):
        if path.name.endswith(_SKIP_SUFFIXES) or path.name == "zarr.json":
            continue
        if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
            out.append(path.relative_to(store).as_posix())
    return out


def source_hash_matches(store: Path, rel: str, sha256: str) -> bool:
    """Does the local file still hash to what the manifest says (was the source damaged)?"""
    return (store / rel).is_file() and sha256_file(store / rel) == sha256
