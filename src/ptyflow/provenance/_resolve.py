"""Finding an input again: by its record id and content hash, wherever it now lies.

A record names its inputs by path, content hash and record id as they were when it ran.
After rsync to another machine (the original removed) the recorded path is stale, so an
input is looked for, in order: at its recorded path, in the directory of the artifact
that used it, then in the search paths. A candidate is the input only if its record has
the input's record id and lists its content hash among its outputs (it made exactly
those bytes); an input without a record (a user's file) is matched by name and content
hash. Search paths are scanned recursively for records once (artifact directories are
not entered), so a search costs one directory walk, not one per input.
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
        """The directories searched after the recorded path, in order."""
        places = [] if near is None else [near]
        return places + [p for p in self.search if p not in places]

    def find(self, ref: ArtifactRef, near: Path | None = None) -> Found | None:
        """The artifact ``ref`` names, or None. ``near``: the directory of the artifact that
        used it (searched right after the recorded path)."""
        recorded = Path(ref.path)
        if ref.record_id is None:
            return self._find_by_content(ref, recorded, near)
        if recorded.exists() and _makes(record := _record_at(recorded), ref):
            return Found(recorded, record)
        for place in self.places(near):
            for candidate in self._index(place).get(ref.record_id, []):
                if _makes(record := _record_at(candidate), ref):
                    return Found(candidate, record)
        return None

    def _find_by_content(self, ref: ArtifactRef, recorded: Path, near: Path | None) -> Found | None:
        candidates = [recorded] + [place / recorded.name for place in self.places(near)]
        for candidate in candidates:
            if candidate.exists() and self.content_hash(candidate) == ref.content_hash:
                return Found(candidate, None)
        return None
