"""Virtual-detector masks from presets in physical units, on the raw detector grid.

A pixel's scattering angle is θ = |k| λ (k from the detector's pixel size and centre); its
azimuth is measured from +kx towards +ky (detector axes). Angles never come from typed pixel
counts, so the same config means the same detector on any camera length.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ptyflow.config.compress import (
    AnnularDetector,
    CustomMasks,
    DetectorPreset,
    DPCDetector,
    RingsDetector,
    SegmentsDetector,
    VirtualConfig,
)
from ptyflow.dataset import DatasetMetadata, live_detectors
from ptyflow.errors import ConfigError

__all__ = ["LIVE_MASK_PREFIX", "MaskSet", "build_masks", "label_image"]

LIVE_MASK_PREFIX = "live_"  # include_live masks: live_bf, live_adf, live_sum, live_ky, live_kx
_KEY = "[compress.virtual]"


@dataclass(frozen=True)
class MaskSet:
    """Masks ``(n_masks, ky, kx)`` float32 with unique names; the last ``n_live`` are the
    live-image weight maps (``include_live``)."""

    names: tuple[str, ...]
    masks: NDArray[np.float32]
    n_live: int


@dataclass(frozen=True)
class _Polar:
    theta_mrad: NDArray[np.float64]  # scattering angle of each pixel
    phi_deg: NDArray[np.float64]  # azimuth in [0, 360)
    alpha_mrad: float  # probe semi-angle
    edge_mrad: float  # the largest angle the detector reaches in every direction


def _polar(metadata: DatasetMetadata) -> _Polar:
    det, beam = metadata.acquisition.detector, metadata.acquisition.beam
    mrad_per_px = det.pixel_size_inv_A * beam.wavelength_A * 1e3
    dy = np.arange(det.shape[0]) - det.center_px[0]
    dx = np.arange(det.shape[1]) - det.center_px[1]
    ky, kx = np.meshgrid(dy, dx, indexing="ij")
    edge_px = min(det.center_px[0], det.shape[0] - 1 - det.center_px[0])
    edge_px = min(edge_px, det.center_px[1], det.shape[1] - 1 - det.center_px[1])
    return _Polar(
        theta_mrad=np.hypot(ky, kx) * mrad_per_px,
        phi_deg=np.degrees(np.arctan2(ky, kx)) % 360.0,
        alpha_mrad=beam.semiangle_mrad,
        edge_mrad=edge_px * mrad_per_px,
    )


def _annulus(p: _Polar, inner: float, outer: float | None) -> NDArray[np.bool_]:
    """Pixels with inner ≤ θ < outer (the centre pixel belongs to a disk from 0)."""
    inside = p.theta_mrad >= inner
    return inside if outer is None else inside & (p.theta_mrad < outer)


def _check_on_detector(where: str, p: _Polar, outer_mrad: float | None) -> None:
    if outer_mrad is not None and outer_mrad > p.edge_mrad * (1 + 1e-9):
        raise ConfigError(
            f"{where}: outer angle {outer_mrad:.4g} mrad lies off the detector, which reaches "
            f"{p.edge_mrad:.4g} mrad from the centre in every direction"
        )


def _ring_edges(d: RingsDetector | SegmentsDetector, p: _Polar) -> list[float]:
    if d.edges_mrad is not None:
        return list(d.edges_mrad)
    return [e * p.alpha_mrad for e in d.edges_bf or ()]


def _sectors(p: _Polar, n: int, rotation_deg: float) -> list[NDArray[np.bool_]]:
    phi = (p.phi_deg - rotation_deg) % 360.0
    width = 360.0 / n
    return [(phi >= s * width) & (phi < (s + 1) * width) for s in range(n)]


def _custom(where: str, d: CustomMasks, shape: tuple[int, int]) -> NDArray[np.float32]:
    try:
        masks = np.load(Path(d.path), allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ConfigError(f"{where}.path: cannot read {d.path}: {err}") from None
    if masks.ndim != 3 or masks.shape[1:] != shape:
        raise ConfigError(
            f"{where}.path: masks in {d.path} have shape {masks.shape}, "
            f"expected (n_masks, {shape[0]}, {shape[1]}) on the raw detector"
        )
    if masks.dtype.kind not in "biuf":
        raise ConfigError(f"{where}.path: masks in {d.path} are {masks.dtype}, expected numbers")
    masks = masks.astype(np.float32)
    if not np.isfinite(masks).all():
        raise ConfigError(f"{where}.path: masks in {d.path} contain NaN or infinite weights")
    return masks


def _preset(
    where: str, d: DetectorPreset, p: _Polar, shape: tuple[int, int]
) -> list[tuple[str, NDArray[np.float32]]]:
    """``(name, mask)`` pairs of one preset."""
    if isinstance(d, CustomMasks):
        return [(f"{d.name}{i}", m) for i, m in enumerate(_custom(where, d, shape))]
    if isinstance(d, AnnularDetector):
        default_inner = {"bf": 0.0, "abf": p.alpha_mrad / 2}.get(d.kind, 0.0)
        default_outer = p.alpha_mrad if d.kind in ("bf", "abf") else None
        inner = default_inner if d.inner_mrad is None else d.inner_mrad
        outer = default_outer if d.outer_mrad is None else d.outer_mrad
        _check_on_detector(f"{where} ({d.kind})", p, outer)
        if outer is not None and outer <= inner:
            raise ConfigError(f"{where} ({d.kind}): outer angle {outer:g} ≤ inner {inner:g} mrad")
        return [(d.name or d.kind, _annulus(p, inner, outer).astype(np.float32))]
    if isinstance(d, DPCDetector):
        outer = p.alpha_mrad if d.outer_mrad is None else d.outer_mrad
        _check_on_detector(f"{where} (dpc)", p, outer)
        disk = _annulus(p, d.inner_mrad, outer)
        sectors = _sectors(p, 4, d.rotation_deg)
        return [(f"{d.name}_q{q}", (disk & s).astype(np.float32)) for q, s in enumerate(sectors)]
    edges = _ring_edges(d, p)
    _check_on_detector(f"{where} ({d.kind})", p, edges[-1])
    rings = [_annulus(p, a, b) for a, b in itertools.pairwise(edges)]
    if isinstance(d, RingsDetector):
        return [(f"{d.name}{r}", ring.astype(np.float32)) for r, ring in enumerate(rings)]
    sectors = _sectors(p, d.n_segments, d.rotation_deg)
    return [
        (f"{d.name}_r{r}_s{s}", (ring & sector).astype(np.float32))
        for r, ring in enumerate(rings)
        for s, sector in enumerate(sectors)
    ]


def build_masks(config: VirtualConfig, metadata: DatasetMetadata) -> MaskSet:
    """The masks of every preset in ``config`` on ``metadata``'s raw detector.

    Raises ConfigError naming the preset for a preset off the detector, an empty mask, a
    custom file of the wrong shape or with NaN weights, and for names used twice.
    """
    shape = metadata.acquisition.detector.shape
    p = _polar(metadata)
    pairs: list[tuple[str, NDArray[np.float32]]] = []
    for i, d in enumerate(config.detectors):
        where = f"{_KEY}.detectors[{i}]"
        for name, mask in _preset(where, d, p, shape):
            if not mask.any():
                raise ConfigError(
                    f"{where} ({d.kind}): mask {name!r} covers no pixel of the detector; "
                    "widen its angles"
                )
            pairs.append((name, mask))
    n_live = 0
    if config.include_live:
        live = live_detectors(metadata)
        pairs += [(LIVE_MASK_PREFIX + k, m) for k, m in live.items()]
        n_live = len(live)
    names = [n for n, _ in pairs]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise ConfigError(f"{_KEY}.detectors: mask names used twice: {', '.join(dupes)}")
    return MaskSet(tuple(names), np.stack([m for _, m in pairs]), n_live)


def label_image(masks: NDArray[np.float32]) -> NDArray[np.int32] | None:
    """Each pixel's mask index (-1: none) if the masks are disjoint 0/1 masks, else None."""
    binary = np.isin(masks, (0.0, 1.0)).all()
    if not binary or masks.sum(axis=0).max() > 1:
        return None
    labels = np.argmax(masks, axis=0).astype(np.int32)
    labels[masks.sum(axis=0) == 0] = -1
    return labels
