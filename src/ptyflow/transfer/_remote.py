"""Commands run on the destination: hash named files, put them on disk, list files,
remove strays.

Files are hashed *where they landed* (through ssh for a server), so nothing is read back
over the network and the server needs no ptyflow (and no matching ptyflow version): by
default with the Python standard library's ``hashlib`` (``python3``, on practically every
Linux server; OpenSSL's SHA-256 with the CPU's SHA instructions, in parallel threads:
about 3x less CPU than coreutils), or with coreutils ``sha256sum`` for servers without
Python. Both read the file names NUL-separated on stdin and print NUL-separated
``<sha256>  <path>`` records, so no name needs escaping and one parser reads either. The
store's path and the partial dir's name are arguments, never part of a script's text.

Hashes read the page cache, so a verified copy could still be lost to a power cut on the
server; :func:`sync_files` fsyncs it (coreutils ``sync FILE...``) before the transfer is
recorded and the local copy may be deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from ptyflow.config.transfer import VerifyMethod
from ptyflow.transfer._destination import Destination

__all__ = ["destination_hashes", "list_files", "remove_files", "sync_files"]

#: A missing file is simply left out of the output (the caller counts it as differing).
_HASH_SCRIPTS: dict[str, list[str]] = {
    "sha256sum": [
        "sh",
        "-c",
        'cd -- "$1" 2>/dev/null || exit 0; xargs -0 -r sha256sum -z -- 2>/dev/null; exit 0',
        "sh",
    ],
    "python3": [
        "python3",
        "-c",
        """\
import hashlib, os, sys
from concurrent.futures import ThreadPoolExecutor
try:
    os.chdir(sys.argv[1])
except OSError:
    sys.exit(0)
names = [n for n in sys.stdin.buffer.read().split(b"\\0") if n]
def sha256(name):
    if not os.path.isfile(name) or os.path.islink(name):
        return None
    digest = hashlib.sha256()
    with open(name, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
    for name, hexdigest in zip(names, pool.map(sha256, names)):
        if hexdigest is not None:
            sys.stdout.buffer.write(hexdigest.encode() + b"  " + name + b"\\0")
""",
    ],
}
#: fsync the files named on stdin, then the directories given as arguments (best effort:
#: some file systems cannot fsync a directory; a file that cannot be synced is an error).
_SYNC_SCRIPT = 'cd -- "$1" && shift && xargs -0 -r sync -- && { sync -- "$@" 2>/dev/null || :; }'
#: Every regular file below the store, rsync's partial dirs left out.
_LIST_SCRIPT = 'cd -- "$1" 2>/dev/null || exit 0; find . -name "$2" -prune -o -type f -print0'
#: Hashing a store on the server reads all of it; this only stops a hung connection.
_TIMEOUT_S = 6 * 3600.0


def _paths(out: bytes, offset: int) -> list[tuple[bytes, str]]:
    return [
        (entry[:offset], entry[offset:].decode("utf-8", errors="surrogateescape"))
        for entry in out.split(b"\0")
        if entry
    ]


def destination_hashes(
    dest: Destination, name: str, files: Sequence[str], method: VerifyMethod
) -> dict[str, str]:
    """Relative path → sha256 of those ``files`` of store ``name`` that are on the destination."""
    if not files:
        return {}
    out = dest.run(
        [*_HASH_SCRIPTS[method], f"{dest.root}/{name}"],
        stdin=b"\0".join(f.encode() for f in files),
        timeout_s=_TIMEOUT_S,
    )
    # "<64 hex><space><space or *><path>"
    return {path.removeprefix("./"): digest[:64].decode() for digest, path in _paths(out, 66)}


def list_files(dest: Destination, name: str, partial_dir: str) -> set[str]:
    """Every regular file of store ``name`` on the destination (empty if it is not there)."""
    out = dest.run(
        ["sh", "-c", _LIST_SCRIPT, "sh", f"{dest.root}/{name}", partial_dir], timeout_s=_TIMEOUT_S
    )
    return {path.removeprefix("./") for _, path in _paths(out, 0)}


def remove_files(dest: Destination, name: str, files: Sequence[str]) -> None:
    """Delete files that do not belong to store ``name`` from its directory on the destination."""
    if files:
        dest.run(["rm", "-f", "--", *(f"{dest.root}/{name}/{f}" for f in files)], timeout_s=600)


def sync_files(dest: Destination, name: str, files: Sequence[str]) -> None:
    """Put ``files`` of store ``name`` on the destination's disk, with every directory that
    holds them and the store's own entry in the destination root."""
    rels = [PurePosixPath(f) for f in files]
    dirs = sorted({str(parent) for rel in rels for parent in rel.parents} | {".."})
    dest.run(
        ["sh", "-c", _SYNC_SCRIPT, "sh", f"{dest.root}/{name}", *dirs],
        stdin=b"\0".join(str(rel).encode() for rel in rels),
        timeout_s=_TIMEOUT_S,
    )
