"""Crash-safe file writes shared by every package that writes metadata.

Two kinds of crash are guarded against. A killed process loses nothing the kernel accepted,
so a temp file renamed into place is enough. A power cut loses what is still in the page
cache: a renamed file can come back empty or a rename can be undone. So what the user may
hold as the only copy (a sealed store, a record, a manifest) is ``fsync``ed before it is
declared finished: the file's bytes before its rename, the directory after it
(docs/dataset-store.md, "Durability").
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

__all__ = [
    "fsync_path",
    "partial_path",
    "rename_durably",
    "replace_directory",
    "sync_tree",
    "write_text_atomic",
]

#: fsync calls in flight at once: the file system commits them together (a journal
#: commit serves many), so a tree of files costs about as much as its bytes to write.
_SYNC_THREADS = 8


def partial_path(path: Path) -> Path:
    """A fresh temp name beside ``path`` for writing it before a rename into place.

    The name ends in ``.partial`` so validators can spot what an interrupted write left.
    """
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")


def fsync_path(path: Path) -> None:
    """Put ``path`` on disk: a file's bytes, or a directory's entries (its renames).

    Some file systems (CIFS, some FUSE mounts) cannot fsync a directory (EINVAL): there the
    directory is left to them, as SQLite does; a file that cannot be synced is an error.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.ENOTSUP) or not path.is_dir():
            raise
    finally:
        os.close(fd)


def rename_durably(source: Path, target: Path) -> None:
    """Rename ``source`` over ``target``, then fsync their directory so that a power cut
    cannot undo the rename (``source``'s own bytes must be on disk already)."""
    os.replace(source, target)
    fsync_path(target.parent)


def sync_tree(root: Path, files: Iterable[str]) -> None:
    """fsync ``files`` (posix paths relative to ``root``), then every directory that holds
    them, ``root`` included: after this a power cut cannot lose them."""
    rels = [PurePosixPath(rel) for rel in files]
    dirs = {parent for rel in rels for parent in rel.parents}  # PurePosixPath(".") is root
    with ThreadPoolExecutor(_SYNC_THREADS) as pool:
        list(pool.map(fsync_path, (root / rel for rel in rels)))
        list(pool.map(fsync_path, (root / d for d in dirs)))


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temp file beside ``path``, then rename it over ``path``.

    A crash, even a power cut, leaves the old file or the new one, never half of either:
    the temp file is fsynced before the rename and the directory after it.
    """
    tmp = partial_path(path)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    rename_durably(tmp, path)


def replace_directory(new: Path, target: Path) -> None:
    """Put the finished directory ``new`` at ``target``, replacing what is there.

    Two renames: the old ``target`` to ``.NAME.<id>.replaced`` beside it, then ``new`` to
    ``target``; then the old one is deleted. A crash between the renames leaves no
    ``target`` but both directories beside it under their temp names (see
    docs/dataset-store.md, "Overwriting"). The renames are made durable before the old
    directory is deleted, so a power cut never leaves neither.
    """
    old = target.with_name(f".{target.name}.{uuid.uuid4().hex}.replaced")
    if target.exists():
        os.rename(target, old)
    rename_durably(new, target)
    shutil.rmtree(old, ignore_errors=True)
