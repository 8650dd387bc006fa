"""The ``ptyflow reconstruct`` config: model, probe, positions, scan, loss, regularisers,
optimiser and engine. Every option is shown and explained in ``configs/reconstruct.toml``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt, model_validator

from ptyflow._models import FiniteFloat, PositiveFloat, StrictModel

__all__ = [
    "EngineConfig",
    "LossConfig",
    "ModelConfig",
    "OptimizerConfig",
    "PositionsConfig",
    "ProbeConfig",
    "ReconstructConfig",
    "RegularizeConfig",
    "ScanRotationConfig",
]


class ModelConfig(StrictModel):
    """What the object and the probe are modelled as."""

    n_slices: PositiveInt = Field(1, description="object slices; 1 = single-slice")
    slice_thickness_A: PositiveFloat | None = Field(
        None, description="distance between slices [Å]; required when n_slices > 1"
    )
    tilt_mrad: tuple[FiniteFloat, FiniteFloat] = Field(
        (0.0, 0.0), description="(y, x) beam tilt applied in every propagation [mrad]"
    )
    n_probe_modes: PositiveInt = Field(1, description="incoherent probe modes (mixed state)")
    padding_px: NonNegativeInt = Field(
        2, description="object pixels added around the area the probe windows cover"
    )

    @model_validator(mode="after")
    def _thickness_for_multislice(self) -> ModelConfig:
        if self.n_slices > 1 and self.slice_thickness_A is None:
            raise ValueError("slice_thickness_A is required when n_slices > 1")
        return self


class ProbeConfig(StrictModel):
    """The probe starts from the store's beam metadata (aperture, aberrations), then is refined."""

    refine: bool = Field(True, description="refine the probe pixels")
    refine_from_iteration: NonNegativeInt = Field(1, description="first iteration that does")
    refine_aberrations: bool | None = Field(
        None,
        description="refine the C_nm coefficients instead of free pixels; none: auto, the "
        "coefficients at low dose (auto loss picks poisson) with one probe mode, else pixels",
    )
    defocus_A: FiniteFloat | None = Field(
        None, description="start from this defocus (= −C10) [Å] instead of the metadata's"
    )
    support_factor: PositiveFloat | None = Field(
        1.3, description="zero the probe beyond this × the aperture radius in k; none: off"
    )
    fix_power: bool = Field(True, description="keep Σ|ψ|² at the measured mean counts")
    second_mode_power: float = Field(
        0.1, gt=0.0, lt=1.0, description="initial power fraction of the extra modes, shared"
    )


class PositionsConfig(StrictModel):
    """Per-position sub-pixel refinement and a global affine correction."""

    refine: bool = Field(False, description="refine each probe position")
    refine_affine: bool = Field(False, description="refine a global 2×2 affine of the scan")
    refine_from_iteration: NonNegativeInt = Field(2, description="first iteration that does")
    max_shift_A: PositiveFloat = Field(1.0, description="clip per-position corrections [Å]")


class ScanRotationConfig(StrictModel):
    """Where the scan rotation comes from; see docs/conventions.md for its sign."""

    source: Literal["metadata", "estimate", "value"] = Field(
        "metadata",
        description="metadata: the store's; estimate: centre-of-mass curl; value: rotation_deg",
    )
    rotation_deg: FiniteFloat = Field(0.0, description="used with source = 'value' [deg]")
    warn_above_deg: PositiveFloat = Field(
        2.0, description="warn when estimate and metadata differ by more [deg]"
    )


class LossConfig(StrictModel):
    """The likelihood, in the measured (possibly binned or virtual) domain."""

    kind: Literal["auto", "amplitude", "poisson", "intensity"] = Field(
        "auto", description="auto: poisson below auto_poisson_below_counts, else amplitude"
    )
    auto_poisson_below_counts: PositiveFloat = Field(
        10.0,
        description="counts per measured value where the signal is (the values holding 90% "
        "of the counts) below which auto picks poisson (docs/reconstruct.md)",
    )


class RegularizeConfig(StrictModel):
    """Regularisers and constraints (0 / none = off)."""

    tv_weight: NonNegativeFloat | None = Field(
        None,
        description="total-variation weight on the phase (and 3× on the log-amplitude); "
        "none: auto, low_dose_tv_weight when the auto loss is poisson (low dose), else 0",
    )
    low_dose_tv_weight: NonNegativeFloat = Field(
        0.3, description="the auto tv_weight at low dose (docs/reconstruct.md)"
    )
    lowpass_inv_A: PositiveFloat | None = Field(
        None, description="Gaussian low-pass of the object after each iteration [1/Å]"
    )
    kz_filter_weight: NonNegativeFloat = Field(
        0.0, description="multislice: damping of high kz over the slices (0 … 1)"
    )
    phase_only: bool = Field(False, description="keep the object amplitude at 1")


class OptimizerConfig(StrictModel):
    """Torch optimiser, mini-batches and learning-rate schedule."""

    kind: Literal["adam", "sgd", "lbfgs"] = Field("adam", description="adam, sgd (momentum), lbfgs")
    iterations: PositiveInt = Field(20, description="passes over all frames")
    batch_size: PositiveInt = Field(64, description="frames per gradient step (lbfgs: all)")
    lr_object: PositiveFloat = Field(
        0.05, description="object learning rate [rad per step]; each of S slices takes lr·S^(−1/3)"
    )
    lr_probe: PositiveFloat = Field(0.02, description="probe learning rate (relative)")
    lr_aberrations_A: PositiveFloat = Field(
        1.0, description="aberration-coefficient learning rate [Å] (probe.refine_aberrations)"
    )
    lr_positions_A: PositiveFloat = Field(0.01, description="position learning rate [Å]")
    momentum: NonNegativeFloat = Field(0.9, lt=1.0, description="sgd momentum")
    schedule: Literal["constant", "cosine", "step"] = Field("cosine", description="lr schedule")
    final_lr_fraction: PositiveFloat = Field(
        0.1, le=1.0, description="cosine/step: lr at the end, as a fraction of the start"
    )


class EngineConfig(StrictModel):
    """Where and how the computation runs."""

    device: str = Field("cpu", description="torch device: cpu, cuda, cuda:1 …")
    seed: NonNegativeInt = Field(0, description="seed of batch order and initial modes")
    deterministic: bool = Field(
        True, description="deterministic torch algorithms (CPU re-runs are bit-identical)"
    )
    cache_limit_bytes: PositiveInt = Field(
        2 * 1024**3,
        description="cache frames and their square roots (float32 each) on the device up to "
        "this size; else stream",
    )
    checkpoint_every: NonNegativeInt = Field(
        0, description="write a checkpoint every this many iterations (0: never)"
    )
    threads: NonNegativeInt = Field(
        1,
        description="CPU threads (0: torch's default, every core); 1 is fastest here: the "
        "fused kernels are serial and a batch's small FFTs gain less than the threads' "
        "hand-offs cost",
    )


class ReconstructConfig(StrictModel):
    """Everything ``ptyflow reconstruct`` needs; every quantity carries its unit in its name."""

    model: ModelConfig = Field(default_factory=ModelConfig)
    probe: ProbeConfig = Field(default_factory=ProbeConfig)
    positions: PositionsConfig = Field(default_factory=PositionsConfig)
    scan_rotation: ScanRotationConfig = Field(default_factory=ScanRotationConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    regularize: RegularizeConfig = Field(default_factory=RegularizeConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
