"""A human summary of a store, for ``ptyflow info STORE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Group
from rich.table import Table
from zarr.abc.codec import BytesBytesCodec

from ptyflow.dataset._lock import writer_running
from ptyflow.dataset._metadata import DatasetState
from ptyflow.dataset._reader import Dataset, open_dataset
from ptyflow.provenance import RECORD_NAME, ProvenanceRecord, content_hash

__all__ = ["render_info"]

_SHOW_MISSING = 5  # missing indices listed before "…"


def _table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    return table


def _codec(ds: Dataset) -> str:
    """The byte codecs of ``data`` with their settings, e.g. ``blosc(cname=zstd, ...)``."""
    parts = []
    for codec in ds.data_array.compressors:
        spec = codec.to_dict() if isinstance(codec, BytesBytesCodec) else {"name": repr(codec)}
        config = spec.get("configuration")
        settings = config.items() if isinstance(config, dict) else []
        parts.append(f"{spec['name']}(" + ", ".join(f"{k}={v}" for k, v in settings) + ")")
    return " + ".join(parts) or "none"


def _store_rows(ds: Dataset) -> list[tuple[str, str]]:
    geometry, received = ds.geometry, ds.frames_received
    missing = ds.missing_indices()
    listed = ", ".join(map(str, missing[:_SHOW_MISSING])) + (
        " …" if len(missing) > _SHOW_MISSING else ""
    )
    dims = ds.metadata.nav_dims + ds.metadata.frame_dims
    state = ds.state.value
    if ds.state is DatasetState.ACQUIRING and not writer_running(ds.path):
        state += " (no writer is running: crashed? `ptyflow recover` seals what arrived)"
    return [
        ("state", state),
        ("shape", f"{ds.nav_shape + ds.frame_shape} ({', '.join(dims)})"),
        ("dtype", str(ds.dtype)),
        (
            "chunks / shards",
            f"{geometry.chunk_nav} / {geometry.shard_nav} scan positions, whole frames",
        ),
        ("codec", _codec(ds)),
        ("compression ratio", f"{ds.compression_ratio:.1f}×"),
        ("frames received", f"{int(received.sum())} of {received.size}"),
        ("frames missing", f"{len(missing)}" + (f": {listed}" if missing else "")),
    ]


def _metadata_rows(ds: Dataset) -> list[tuple[str, str]]:
    acq, comp = ds.metadata.acquisition, ds.metadata.compression
    beam, scan, det = acq.beam, acq.scan, acq.detector
    nonzero = [f"{k}={v:g}" for k, v in beam.aberrations.model_dump().items() if v]
    scan_text = (
        f"{scan.shape[0]}×{scan.shape[1]} positions, "
        f"step {scan.step_A[0]:g}×{scan.step_A[1]:g} Å, rotation {scan.rotation_deg:g}°"
    )
    if scan.n_time:
        scan_text += f", {scan.n_time} time steps"
        scan_text += f" every {scan.time_step_s:g} s" if scan.time_step_s else ""
    detector = f"{det.name}" + (f" #{det.serial}" if det.serial else "")
    detector += (
        f", {det.shape[0]}×{det.shape[1]} px, {det.pixel_size_inv_A:g} 1/Å per px, "
        f"centre {det.center_px} px, {det.bit_depth} bit"
    )
    compression: str = comp.kind
    if comp.kind == "bin":
        grid = ds.metadata.frame_grid
        compression += (
            f" (bin factor {comp.bin_factor}): frames {grid.shape[0]}×{grid.shape[1]} px of "
            f"{grid.pixel_size_inv_A:g} 1/Å, k = 0 at ({grid.center_px[0]:g}, "
            f"{grid.center_px[1]:g}) px"
        )
    elif comp.kind == "virtual":
        compression += (
            f" ({comp.n_masks} masks on the raw detector, in masks/: "
            f"{', '.join(comp.mask_names or ())})"
        )
    finished = acq.finished_utc.isoformat() if acq.finished_utc else "—"
    return [
        ("beam", f"{beam.energy_eV / 1e3:g} keV, semi-angle {beam.semiangle_mrad:g} mrad"),
        (
            "aberrations",
            f"defocus {beam.aberrations.defocus_A:g} Å; " + (", ".join(nonzero) or "none"),
        ),
        ("scan", scan_text),
        ("detector", detector),
        ("compression", compression),
        ("source", acq.source),
        ("started / finished", f"{acq.started_utc.isoformat()} / {finished}"),
    ]


def _provenance_rows(ds: Dataset, verify: bool) -> list[tuple[str, str]]:
    raw: Any = ds.provenance
    if raw is None:
        return [("record", "none")]
    try:
        record = ProvenanceRecord.model_validate(raw)
    except ValidationError as err:
        return [("record", f"INVALID ({RECORD_NAME}: {err.error_count()} problem(s))")]
    env = record.environment
    recorded = [o.content_hash for o in record.outputs]
    if not verify:
        verdict = "not checked"
    else:
        actual = content_hash(ds.path)
        verdict = "yes" if actual in recorded else f"NO: files hash to {actual}"
    return [
        ("activity", record.activity),
        ("time", f"{record.started_utc.isoformat()} → {record.ended_utc}"),
        ("software", f"ptyflow {env.packages.get('ptyflow', '?')}, git commit {env.git_commit}"),
        ("host / user", f"{env.host} / {env.user}"),
        ("content hash", ", ".join(recorded) or "—"),
        ("verifies", verdict),
    ]


def render_info(path: str | Path, *, verify_checksums: bool = True) -> Group:
    """A rich renderable summarising the store at ``path`` (print it with a rich Console).

    ``verify_checksums`` rehashes every file to say whether the store still matches its
    provenance record (reads the whole store once).
    """
    ds = open_dataset(path)
    return Group(
        _table(f"{ds.path}", _store_rows(ds)),
        _table("acquisition", _metadata_rows(ds)),
        _table("provenance", _provenance_rows(ds, verify_checksums)),
    )
