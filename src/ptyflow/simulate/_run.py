"""``run_simulation``: simulate a scan into a dataset store and write its ground truth beside it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ptyflow._allocator import tune_allocator
from ptyflow._files import replace_directory
from ptyflow._progress import count_progress
from ptyflow._signals import signals_deferred
from ptyflow.config.simulate import PhaseImageSpecimen, SimulateConfig
from ptyflow.dataset import (
    TRUTH_NAME,
    Acquisition,
    Compression,
    DatasetMetadata,
    Detector,
    Scan,
    check_truth_dir,
    create_dataset,
    truth_path,
    write_truth_dir,
)
from ptyflow.physics import center_pixel, sigma_rad_per_VA
from ptyflow.provenance import (
    RECORD_NAME,
    ArtifactRef,
    artifact_ref,
    read_record,
    start_record,
)
from ptyflow.simulate._plan import SimulationPlan, plan_simulation

__all__ = ["TRUTH_NAME", "SimulationResult", "run_simulation", "truth_path"]


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`run_simulation` made: the store, its ground truth, the mean fraction of the
    beam that landed on the detector, and the wall time [s]."""

    store: Path
    truth: Path
    beam_fraction: float
    seconds: float


def _metadata(plan: SimulationPlan) -> DatasetMetadata:
    cfg = plan.config
    det = cfg.detector
    cy, cx = center_pixel(det.shape)
    return DatasetMetadata(
        acquisition=Acquisition(
            beam=cfg.beam,
            scan=Scan(
                shape=cfg.scan.shape, step_A=cfg.scan.step_A, rotation_deg=cfg.scan.rotation_deg
            ),
            detector=Detector(
                shape=det.shape,
                pixel_size_inv_A=det.pixel_size_inv_A,
                center_px=(cy, cx),
                bit_depth=32,
                name="ptyflow-simulator",
            ),
            source=f"ptyflow simulate: multislice through {plan.specimen.description}",
            started_utc=datetime.now(UTC),
        ),
        compression=Compression(kind="none"),
    )


def _write_truth_files(plan: SimulationPlan, path: Path, beam_fraction: float) -> None:
    cfg, obj, window = plan.config, plan.obj, plan.window
    np.save(path / "object_phase.npy", obj.phase)
    np.save(path / "probe.npy", cfg.beam.real_space(window.grid).astype(np.complex64))
    positions = plan.positions_A - np.asarray(obj.origin_A)
    np.save(path / "scan_positions_A.npy", positions)
    np.save(
        path / "scan_positions_nominal_A.npy", plan.nominal_positions_A - np.asarray(obj.origin_A)
    )
    truth = {
        "object_phase.npy": {
            "shape": list(obj.phase.shape),
            "axes": ["slice", "y", "x"],
            "units": "rad",
            "definition": "sigma * projected potential of each slice, band-limited; positive "
            "at atom columns; the transmission is exp(+i*phase)",
            "pixel_size_A": obj.pixel_size_A,
            "origin": "pixel (0, 0) centre is (y, x) = (0, 0) of scan_positions_A",
            "specimen_offset_yx_A": [-obj.origin_A[0], -obj.origin_A[1]],
            "slice_thicknesses_A": plan.specimen.slice_thicknesses_A.tolist(),
            "specimen_period_yx_A": list(plan.specimen.phase.cell_A),
            "periodic": True,
        },
        "probe.npy": {
            "shape": list(window.grid.shape),
            "units": "complex amplitude, sum |psi|^2 = 1",
            "pixel_size_A": window.pixel_size_A,
            "center_px": list(center_pixel(window.grid.shape)),
            "plane": "entrance surface of the specimen",
        },
        "scan_positions_A.npy": {
            "shape": list(positions.shape),
            "columns": ["y", "x"],
            "units": "A",
            "order": "raster: index = iy * nx + ix",
            "meaning": "where the probe really was (nominal raster + scan.jitter_A errors)",
        },
        "scan_positions_nominal_A.npy": {
            "meaning": "the raster the store's metadata describes (same shape, axes, origin)",
            "position_error_std_A": cfg.scan.jitter_A,
        },
        "specimen": plan.specimen.description,
        "energy_eV": cfg.beam.energy_eV,
        "wavelength_A": cfg.beam.wavelength_A,
        "sigma_rad_per_VA": sigma_rad_per_VA(cfg.beam.energy_eV),
        "electrons_per_position": plan.electrons_per_position,
        "mean_fraction_of_beam_on_detector": beam_fraction,
        "simulation_window_px": window.size,
        "simulation_reciprocal_pixel_inv_A": window.grid.reciprocal_sampling_inv_A[0],
        "detector_binning_from_simulation": window.oversampling,
        "conventions": "docs/conventions.md: arrays (scan_y, scan_x, ky, kx); k = 0 at pixel "
        "(n//2, n//2); defocus = -C10; chi = pi*lambda*C10*k^2 + ...; probe(k) = A(k) exp(-i chi); "
        "propagator exp(-i pi lambda dz k^2); transmission exp(+i sigma V); scan fast axis "
        "(y, x) = (sin rotation, cos rotation)",
    }
    (path / TRUTH_NAME).write_text(json.dumps(truth, indent=2), encoding="utf-8")


def run_simulation(
    config: SimulateConfig, out_path: Path, *, overwrite: bool = False, progress: bool = True
) -> SimulationResult:
    """Simulate ``config`` into a new dataset store at ``out_path`` and its ground truth.

    Frames are generated and written one scan row at a time, so memory stays bounded however
    large the store. The store and ``<stem>.truth/`` each carry a provenance record.
    """
    t0 = time.perf_counter()
    tune_allocator()  # every batch frees and reallocates the same large tensors
    out_path = Path(out_path)
    truth_dir = truth_path(out_path)
    check_truth_dir(truth_dir, overwrite)
    specimen = config.specimen
    inputs = [artifact_ref(specimen.path)] if isinstance(specimen, PhaseImageSpecimen) else []
    record = start_record("simulate", config=config, inputs=inputs)
    plan = plan_simulation(config, out_path)
    noise = config.dose.poisson_noise
    fractions: list[np.ndarray] = []
    bar = count_progress("simulate", enabled=progress)
    # The old store and truth (with --overwrite) stay until both new ones are finished.
    writer = create_dataset(
        out_path,
        _metadata(plan),
        dtype=np.uint32 if noise else np.float32,
        overwrite=overwrite,
        record=record,
        replace_on_close=False,
    )
    try:
        with bar, writer:
            task = bar.add_task("simulate", total=len(plan.positions_A))
            for block in plan.simulator.blocks(
                plan.positions_A,
                config.scan.shape,
                plan.electrons_per_position,
                poisson_seed=config.dose.seed if noise else None,
                batch_size=config.numerics.batch_size,
            ):
                writer.write_frames(block.start_index, block.frames)
                fractions.append(block.beam_fraction)
                bar.advance(task, len(block.frames))
        beam_fraction = float(np.concatenate(fractions).mean())
        assert writer.content_hash is not None  # set when the with block closed the store
        # By content hash, record id and record hash: the truth's record seals the store's.
        # The record is read where the writer sealed it (beside the final path until the
        # commit below); the path is the store's own.
        sealed = read_record(writer.path / RECORD_NAME)
        store_ref = ArtifactRef(
            path=str(out_path.resolve()),
            content_hash=writer.content_hash,
            record_id=sealed.record_id,
            record_hash=sealed.record_hash,
        )
        truth_record = start_record("simulate.truth", config=config, inputs=[store_ref, *inputs])
        new_truth = write_truth_dir(
            truth_dir,
            lambda tmp: _write_truth_files(plan, tmp, beam_fraction),
            truth_record,
            into_place=False,
        )
        with signals_deferred():  # the store and its truth are swapped in together
            writer.commit()
            replace_directory(new_truth, truth_dir)
    finally:
        writer.abort()  # after a commit only releases the lock
    return SimulationResult(out_path, truth_dir, beam_fraction, time.perf_counter() - t0)
