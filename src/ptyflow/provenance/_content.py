"""Rechecking the bytes of many artifacts at once, naming every file that changed.

All files of all artifacts are hashed in one parallel pass (largest first, so the threads
finish together); then each artifact is judged: a directory file by file against its
``manifest.json`` (which names the changed, missing or extra file), and as a whole against
the content hash its record gives it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ptyflow.errors import ProvenanceError
from ptyflow.provenance._hashing import (
    HASH_PREFIX,
    ManifestEntry,
    OnBytes,
    build_manifest,
    hash_files,
    list_files,
    tree_hash,
)
from ptyflow.provenance._record import (
    HASH_EXCLUDES,
    MANIFEST_NAME,
    ProvenanceRecord,
    record_file,
)

__all__ = [
    "ContentPlan",
    "Problem",
    "described",
    "expected_hash",
    "manifest_differences",
    "manifest_problems",
]


@dataclass(frozen=True)
class Problem:
    """Something that does not verify: the file (or artifact) at fault and what is wrong."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def expected_hash(artifact: Path, record: ProvenanceRecord) -> str:
    """The content hash ``record`` gives ``artifact``: its output of that name (paths change
    under rsync, names do not), or its only output."""
    named = [o for o in record.outputs if Path(o.path).name == artifact.name]
    candidates = named or record.outputs
    if len(candidates) != 1:
        raise ProvenanceError(
            f"{artifact}: its provenance record lists {len(record.outputs)} outputs and "
            f"none named {artifact.name!r}; cannot tell which one to verify"
        )
    return candidates[0].content_hash


def described(artifact: Path, record: ProvenanceRecord) -> dict[Path, str]:
    """The artifact(s) whose content ``record`` vouches for, and their content hashes.

    Usually ``artifact`` itself. Given a record file (a transfer's record sits beside the
    store it moved, ``NAME.transfer.prov.json``), its outputs found beside it by name.
    """
    if record_file(artifact) != artifact:
        return {artifact: expected_hash(artifact, record)}
    beside = {artifact.parent / Path(o.path).name: o.content_hash for o in record.outputs}
    found = {path: digest for path, digest in beside.items() if path.exists()}
    if not found:
        names = ", ".join(p.name for p in beside) or "none"
        raise ProvenanceError(f"{artifact}: none of its outputs ({names}) lies beside it")
    return found


def manifest_differences(
    root: Path, listed: Mapping[str, Mapping[str, object]], current: Mapping[str, str]
) -> list[Problem]:
    """Every file missing, not listed, or changed: ``listed`` is a manifest, ``current``
    maps each file now under ``root`` to its hex SHA-256."""
    return (
        [Problem(root / r, "missing (listed in the manifest)") for r in listed if r not in current]
        + [Problem(root / r, "not listed in the manifest") for r in current if r not in listed]
        + [
            Problem(root / r, "checksum differs from the manifest (file modified)")
            for r, entry in listed.items()
            if r in current and current[r] != entry.get("sha256")
        ]
    )


def manifest_problems(
    root: Path,
    manifest: Mapping[str, Mapping[str, object]],
    current: Mapping[str, ManifestEntry] | None = None,
) -> list[str]:
    """:func:`manifest_differences` as ``PATH: problem`` lines; ``current`` is the
    directory's manifest now (without it, every file is rehashed)."""
    if current is None:
        current = build_manifest(root, exclude=HASH_EXCLUDES)
    now = {rel: entry["sha256"] for rel, entry in current.items()}
    return [str(p) for p in manifest_differences(root, manifest, now)]


def _read_manifest(root: Path) -> tuple[dict[str, ManifestEntry] | None, Problem | None]:
    path = root / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, Problem(path, f"unreadable manifest: {err}")
    if not isinstance(data, dict) or not all(
        isinstance(e, dict) and isinstance(e.get("sha256"), str) for e in data.values()
    ):
        return None, Problem(path, "not a mapping of path → {sha256, size_bytes}")
    return data, None


def _judge_directory(root: Path, expected: str, current: dict[str, str]) -> list[Problem]:
    manifest, problem = _read_manifest(root)
    problems = [problem] if problem else []
    if manifest is not None:
        problems += manifest_differences(root, manifest, current)
        listed = tree_hash(manifest)
        if listed != expected:
            problems.append(
                Problem(
                    root / MANIFEST_NAME,
                    f"describes content {listed}, the record says {expected} "
                    f"({MANIFEST_NAME} was edited or replaced)",
                )
            )
    actual = tree_hash({rel: {"sha256": digest} for rel, digest in current.items()})
    if actual != expected and not problems:
        why = "" if manifest is not None else f"; no {MANIFEST_NAME} to name the file"
        message = f"content hash {actual} differs from the record's {expected}{why}"
        problems.append(Problem(root, message))
    return problems


class ContentPlan:
    """Every file to rehash for a set of artifacts; :meth:`run` hashes them and judges each.

    ``expected`` maps each artifact to the content hash its record gives it. Built first, so
    a progress bar knows ``total_bytes`` before any byte is read.
    """

    def __init__(self, expected: Mapping[Path, str]) -> None:
        self.expected = dict(expected)
        self.problems: list[Problem] = []
        self._files: dict[Path, dict[str, Path]] = {}
        for artifact in self.expected:
            try:
                listing = list_files(artifact, HASH_EXCLUDES) if artifact.is_dir() else {}
            except ProvenanceError as err:  # a symbolic link inside the artifact
                self.problems.append(Problem(artifact, str(err)))
                continue
            self._files[artifact] = listing
        todo = [p for listing in self._files.values() for p in listing.values()]
        todo += [a for a in self._files if not a.is_dir()]
        self._sizes = {p: p.stat().st_size for p in todo}
        self.total_bytes = sum(self._sizes.values())
        self.n_files = len(todo)

    def run(self, *, threads: int | None = None, on_bytes: OnBytes | None = None) -> list[Problem]:
        """Hash every file (largest first, so the threads finish together); the problems."""
        order = sorted(self._sizes, key=self._sizes.__getitem__, reverse=True)
        hashed = hash_files(order, threads=threads, on_bytes=on_bytes)
        digests = dict(zip(order, hashed, strict=True))
        problems = list(self.problems)
        for artifact, listing in self._files.items():
            expected = self.expected[artifact]
            if not artifact.is_dir():
                actual = HASH_PREFIX + digests[artifact]
                if actual != expected:
                    message = f"changed: content {actual}, the record says {expected}"
                    problems.append(Problem(artifact, message))
                continue
            current = {rel: digests[path] for rel, path in listing.items()}
            problems += _judge_directory(artifact, expected, current)
        return problems
