"""Finding an input again: by its record id and content hash, wherever it now lies.

A record names its inputs by path, content hash and record id as they were when it ran.
After rsync to another machine (the original removed) the recorded path is stale, so an
input is looked for, in order: in the directory of the artifact that used it (a copy
beside it is the one in use), at its recorded path, then in the search paths. A
candidate is the input only if its record has the input's record id and lists its
content hash among its outputs (it made exactly those bytes); an input without a record
(a user's file) is matched by name and content hash. The artifact's own directory is
searched for siblings; search paths are scanned recursively (artifact directories are not
entered), once each, however many inputs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ptyflow.errors import ProvenanceError
from ptyflow.provenance._record import (
    RECORD_NAME,
    ArtifactRef,
    ProvenanceRecord,
    content_hash,
    read_record,
    record_path,
)

__all__ = ["Found", "InputFinder"]

_FILE_RECORD_SUFFIX = ".prov.json"


@dataclass(frozen=True)
class Found:
    """Where an input was found, and the record that made it (None for a user's file)."""

    path: Path
    record: ProvenanceRecord | None


def _record_at(path: Path) -> ProvenanceRecord | None:
    try:
        return read_record(record_path(path))
    except ProvenanceError:
        return None


def _makes(record: ProvenanceRecord | None, ref: ArtifactRef) -> bool:
    """Whether ``record`` is the one that made the bytes ``ref`` used."""
    return (
        record is not None
        and record.record_id == ref.record_id
        and any(o.content_hash == ref.content_hash for o in record.outputs)
    )


def _artifacts_under(root: Path, recursive: bool) -> Iterator[Path]:
    """Every artifact with a record in ``root`` (``recursive``: or below it): directories
    holding ``provenance.json`` (never entered) and files with a ``FILE.prov.json``."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    names = {e.name for e in entries}
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if os.path.exists(os.path.join(entry.path, RECORD_NAME)):
                yield Path(entry.path)
            elif recursive:
                yield from _artifacts_under(Path(entry.path), recursive)
        elif entry.name.endswith(_FILE_RECORD_SUFFIX):
            target = entry.name.removesuffix(_FILE_RECORD_SUFFIX)
            if target in names:
                yield root / target


class InputFinder:
    """Finds inputs at their recorded path, beside the artifact that used them, or in
    ``search`` (directories, scanned recursively once each)."""

    def __init__(self, search: Sequence[str | Path] = ()) -> None:
        self.search = [Path(p) for p in search]
        self._search = {p.resolve() for p in self.search}
        self._by_id: dict[Path, dict[str, list[Path]]] = {}  # directory → record id → artifacts
        self._hashes: dict[Path, str] = {}

    def _index(self, root: Path) -> dict[str, list[Path]]:
        root = root.resolve()
        if root not in self._by_id:
            index: dict[str, list[Path]] = {}
            # Search paths are walked down; an artifact's own directory only holds siblings.
            recursive = root in self._search
            for artifact in _artifacts_under(root, recursive):
                record = _record_at(artifact)
                if record is not None:
                    index.setdefault(record.record_id, []).append(artifact)
            self._by_id[root] = index
        return self._by_id[root]

    def content_hash(self, path: Path) -> str:
        """The content hash of ``path``, computed once per path per finder."""
        if path not in self._hashes:
            self._hashes[path] = content_hash(path)
        return self._hashes[path]

    def places(self, near: Path | None) -> list[Path]:
        """The directories searched: the artifact's own, then the search paths."""
        places = [] if near is None else [near]
        return places + [p for p in self.search if p.resolve() not in places]

    def _candidates(self, ref: ArtifactRef, near: Path | None) -> Iterator[Path]:
        """Where ``ref`` may be, in search order; a directory is scanned only when reached:
        the artifact's own directory, the recorded path, then the search paths."""

        def inside(place: Path) -> Iterator[Path]:
            if ref.record_id is None:
                yield place / recorded.name
            else:
                yield from self._index(place).get(ref.record_id, [])

        recorded = Path(ref.path)
        if near is not None:
            yield from inside(near)
        yield recorded
        for place in self.places(near)[0 if near is None else 1 :]:
            yield from inside(place)

    def find(self, ref: ArtifactRef, near: Path | None = None) -> Found | None:
        """The artifact ``ref`` names, or None. ``near``: the directory of the artifact that
        used it, searched first (a copy beside it is the one in use)."""
        for candidate in self._candidates(ref, near):
            if not candidate.exists():
                continue
            if ref.record_id is None:
                if self.content_hash(candidate) == ref.content_hash:
                    return Found(candidate, None)
            elif _makes(record := _record_at(candidate), ref):
                return Found(candidate, record)
        return None
