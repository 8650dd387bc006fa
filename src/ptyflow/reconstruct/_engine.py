"""``run_reconstruction``: read a store, fit the model by autodiff, write a result store."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ptyflow._allocator import tune_allocator
from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.dataset import Dataset, open_dataset
from ptyflow.errors import ConfigError
from ptyflow.physics import Probe
from ptyflow.provenance import artifact_ref, start_record
from ptyflow.reconstruct._checkpoint import Checkpoint, checkpoint_path
from ptyflow.reconstruct._data import FrameSource
from ptyflow.reconstruct._dose import dose_defaults
from ptyflow.reconstruct._figures import write_figures
from ptyflow.reconstruct._geometry import nominal_positions_A, object_grid, resolve_rotation_deg
from ptyflow.reconstruct._measure import Measurement
from ptyflow.reconstruct._model import PtychoModel
from ptyflow.reconstruct._optimize import (
    GradientStep,
    frozen_parameters,
    left_out,
    lr_schedule,
    make_optimizer,
)
from ptyflow.reconstruct._progress import IterationLog, progress_bar
from ptyflow.reconstruct._regularize import filter_object
from ptyflow.reconstruct._result import ResultMetadata, check_target, write_result

__all__ = ["ReconstructionRun", "run_reconstruction"]

log = logging.getLogger("ptyflow.reconstruct")


@dataclass(frozen=True)
class ReconstructionRun:
    """What :func:`run_reconstruction` made and how long each iteration took."""

    result: Path
    loss_name: str
    loss: list[float]
    data_error: list[float]
    seconds_per_iteration: list[float]
    rotation_deg: float


def _setup_torch(cfg: ReconstructConfig) -> torch.device:
    device = torch.device(cfg.engine.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"engine.device = {cfg.engine.device!r} but torch sees no CUDA device")
    if cfg.engine.threads:
        torch.set_num_threads(cfg.engine.threads)
    torch.manual_seed(cfg.engine.seed)
    torch.use_deterministic_algorithms(cfg.engine.deterministic, warn_only=device.type != "cpu")
    # Deterministic mode also NaN-fills every new tensor by default: a third of the CPU time
    # here, and needless, since nothing reads memory it did not write.
    torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]
    tune_allocator()
    return device


def _probe(ds: Dataset, cfg: ReconstructConfig) -> Probe:
    beam = ds.metadata.acquisition.beam
    if cfg.probe.defocus_A is None:
        return beam
    ab = beam.aberrations.model_copy(update={"C10_A": -cfg.probe.defocus_A})
    return beam.model_copy(update={"aberrations": ab})


def _initial_probe_power(source: FrameSource, build: Callable[[float], PtychoModel]) -> float:
    """Σ|ψ|² that makes the modelled frames (through vacuum) as bright as the measured ones."""
    unit = build(1.0)
    rng = np.random.default_rng(0)
    indices, frames, _ = next(source.batches(rng, 64))
    assert frames is not None
    with torch.no_grad():
        modelled = unit(indices).sum(dtype=torch.float64)
    return float(frames.sum(dtype=torch.float64) / modelled)


def run_reconstruction(
    store: str | Path,
    config: ReconstructConfig,
    out: str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    on_iteration: Callable[[int, PtychoModel], None] | None = None,
) -> ReconstructionRun:
    """Reconstruct the dataset store ``store`` with ``config`` into the result store ``out``.

    With ``resume`` an interrupted run continues from its checkpoint (``OUT.checkpoint.pt``)
    and ends exactly as an uninterrupted one would.
    """
    store, out = Path(store), Path(out)
    check_target(out, overwrite or resume)
    ds = open_dataset(store)
    dataset = artifact_ref(store)  # content hash and the id of the store's own record
    dataset_hash = dataset.content_hash
    record = start_record("reconstruct", config=config, inputs=[dataset])
    device = _setup_torch(config)
    measurement = Measurement(ds, device)
    source = FrameSource(ds, device, config.engine.cache_limit_bytes, measurement.prepare)
    config = dose_defaults(config, source.signal_counts)
    rotation = resolve_rotation_deg(ds, config.scan_rotation)
    nominal = nominal_positions_A(ds, rotation)
    margin = config.positions.max_shift_A if config.positions.refine else 0.0
    grid = object_grid(
        measurement.window_px,
        measurement.raw_pixel_size_inv_A,
        nominal,
        config.model.padding_px,
        margin,
    )
    probe = _probe(ds, config)

    def build(power: float) -> PtychoModel:
        return PtychoModel(config, probe, grid, nominal, measurement, power).to(device)

    model = build(_initial_probe_power(source, build))
    loss_name, tv = config.loss.kind, config.regularize.tv_weight or 0.0
    log.info(
        "%s: %d frames (%s), %.3g counts per value where the signal is → %s loss, TV %g; "
        "object %s px of %.4f Å; rotation %.2f°",
        store,
        len(source.indices),
        "cached" if source.cached else "streamed",
        source.signal_counts,
        loss_name,
        tv,
        grid.shape,
        grid.pixel_size_A[0],
        rotation,
    )
    optimizer = make_optimizer(model, config)
    n_iter = config.optimizer.iterations
    lbfgs = config.optimizer.kind == "lbfgs"
    if lbfgs and not source.cached:
        raise ConfigError(
            f"optimizer.kind = 'lbfgs' takes full-batch steps, but {store}'s frames exceed "
            f"engine.cache_limit_bytes ({config.engine.cache_limit_bytes}) and would stream "
            "shard by shard, mixing shards in one curvature history: raise the limit or use "
            "optimizer.kind = 'adam'"
        )
    batch = len(source.indices) if lbfgs else config.optimizer.batch_size
    need_frames = loss_name != "amplitude"
    steps = n_iter * math.ceil(len(source.indices) / batch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_schedule(config, steps))
    history = IterationLog()
    ckpt = Checkpoint(checkpoint_path(out), model, optimizer, scheduler, history)
    start = ckpt.load() if resume else 0

    with progress_bar(progress, n_iter, start) as bar:
        for iteration in range(start, n_iter):
            t0 = time.perf_counter()
            frozen = frozen_parameters(model, config, iteration)
            rng = np.random.default_rng([config.engine.seed, iteration])
            sums = torch.zeros(3, dtype=torch.float64, device=device)  # loss, |√m − √d|, √d
            count = 0
            with left_out(frozen):
                for indices, frames, roots in source.batches(rng, batch, need_frames):
                    step = GradientStep(model, loss_name, optimizer, tv, indices, frames, roots)
                    loss = step.run(lbfgs)
                    scheduler.step()
                    model.constrain()
                    assert step.error is not None
                    sums[0] += loss * len(indices)
                    sums[1] += step.error
                    sums[2] += roots.sum()
                    count += len(indices)
            filter_object(model.phase, model.log_amplitude, config.regularize, grid.pixel_size_A)
            total, err_num, err_den = sums.tolist()
            history.add(total / count, err_num / err_den, time.perf_counter() - t0)
            bar.advance(history)
            every = config.engine.checkpoint_every
            if every and (iteration + 1) % every == 0 and iteration + 1 < n_iter:
                ckpt.save(iteration + 1)
            if on_iteration is not None:
                on_iteration(iteration, model)

    metadata = ResultMetadata(
        pixel_size_A=grid.pixel_size_A,
        origin_A=grid.origin_A,
        n_slices=config.model.n_slices,
        slice_thickness_A=config.model.slice_thickness_A or 0.0,
        energy_eV=probe.energy_eV,
        config=config.model_dump(mode="json"),
        dataset_content_hash=dataset_hash,
        iterations=n_iter,
    )
    arrays = {
        "object": model.transmission().cpu().numpy(),
        "probe": model.probe_modes().detach().cpu().numpy(),
        "positions_A": model.positions_A().detach().cpu().numpy(),
        "loss": np.asarray(history.loss),
    }
    write_result(
        out,
        metadata,
        arrays,
        record,
        overwrite=overwrite or resume,
        extra=lambda d: write_figures(d, arrays, history, grid.pixel_size_A),
    )
    ckpt.remove()
    return ReconstructionRun(
        out, loss_name, history.loss, history.data_error, history.seconds, rotation
    )
