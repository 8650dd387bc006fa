"""Sending files with rsync and checking them on the destination with ``sha256sum``.

Verification runs where the bytes are, with plain coreutils ``sha256sum`` (through ssh for
a server): the server needs no ptyflow, no Python, and no matching version, nothing is
read back over the network, and the hashes are the ones the manifest already holds. The
tree hash is then recomputed here from the server's hashes with the same
:func:`ptyflow.provenance.tree_hash` that sealed the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ptyflow.config.transfer import RsyncConfig
from ptyflow.errors import TransferError
from ptyflow.provenance import HASH_EXCLUDES, tree_hash
from ptyflow.transfer._destination import Destination, failure_text, run_command
from ptyflow.transfer._store_files import SealedStore

__all__ = ["Comparison", "compare", "destination_hashes", "remove_files", "send_files"]

#: Hash every regular file below the store on the destination, skipping rsync's partial
#: dirs; NUL-separated names (-z) so that no name needs escaping. "$1", "$2" are arguments.
_HASH_SCRIPT = (
    'cd -- "$1" && find . -name "$2" -prune -o -type f -print0 | xargs -0 -r sha256sum -z --'
)
#: Hashing a store on the server reads all of it; this only stops a hung connection.
_HASH_TIMEOUT_S = 6 * 3600.0


def send_files(
    source_dir: Path,
    files: Sequence[str],
    dest: Destination,
    rel: str,
    config: RsyncConfig,
    *,
    ignore_times: bool = False,
) -> None:
    """rsync ``files`` (relative to ``source_dir``) into ``rel`` below the destination root.

    Half-sent files wait in the partial dir, never under their final name; missing parent
    directories are created. ``ignore_times`` re-sends files whatever their size and mtime
    (a repair: a damaged file can keep both).
    """
    if not files:
        return
    argv = [
        "rsync",
        "--archive",
        "--mkpath",
        "--from0",
        "--files-from=-",
        f"--partial-dir={config.partial_dir}",
        f"--timeout={config.io_timeout_s}",
        *dest.rsync_options(),
    ]
    if config.bandwidth_limit_KiB_per_s is not None:
        argv.append(f"--bwlimit={config.bandwidth_limit_KiB_per_s}")
    if ignore_times:
        argv.append("--ignore-times")
    argv += [f"{source_dir}/", dest.rsync_target(rel).rstrip("/") + "/"]
    proc = run_command(argv, stdin=b"\0".join(f.encode() for f in files))
    if proc.returncode != 0:
        raise TransferError(f"rsync to {dest.label}: {failure_text(proc)}")


def destination_hashes(dest: Destination, name: str, partial_dir: str) -> dict[str, str]:
    """Relative path → sha256 of every file of store ``name`` on the destination."""
    out = dest.run(
        ["sh", "-c", _HASH_SCRIPT, "sh", f"{dest.root}/{name}", partial_dir],
        timeout_s=_HASH_TIMEOUT_S,
    )
    hashes: dict[str, str] = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        # "<64 hex><space><space or *><./name>"
        digest, path = entry[:64].decode(), entry[66:].decode("utf-8", errors="surrogateescape")
        hashes[path.removeprefix("./")] = digest
    return hashes


def remove_files(dest: Destination, name: str, files: Sequence[str]) -> None:
    """Delete files that do not belong to store ``name`` from its directory on the destination."""
    if files:
        dest.run(["rm", "-f", "--", *(f"{dest.root}/{name}/{f}" for f in files)], timeout_s=600)


@dataclass(frozen=True)
class Comparison:
    """The destination's files against what the sealed store says they must be."""

    differing: tuple[str, ...]  # missing or with another hash
    extra: tuple[str, ...]  # present but not part of the store
    tree_hash: str  # over the destination's files, record and manifest left out
    expected_tree_hash: str

    @property
    def ok(self) -> bool:
        return not self.differing and not self.extra and self.tree_hash == self.expected_tree_hash

    def describe(self) -> str:
        parts = []
        if self.differing:
            parts.append(
                f"{len(self.differing)} file(s) differ or are missing: {_few(self.differing)}"
            )
        if self.extra:
            parts.append(f"{len(self.extra)} file(s) not in the store: {_few(self.extra)}")
        if not parts:
            parts.append(f"tree hash {self.tree_hash} != {self.expected_tree_hash}")
        return "; ".join(parts)


def _few(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def compare(store: SealedStore, found: dict[str, str]) -> Comparison:
    expected = store.expected()
    differing = tuple(sorted(k for k, v in expected.items() if found.get(k) != v))
    extra = tuple(sorted(set(found) - set(expected)))
    content = {k: {"sha256": v} for k, v in found.items() if k not in HASH_EXCLUDES}
    return Comparison(differing, extra, tree_hash(content), store.content_hash)
