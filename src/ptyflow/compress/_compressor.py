"""``Compressor``: one ``[compress]`` config applied to batches of frames, into caller buffers."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ptyflow.compress import _kernels as k
from ptyflow.compress._masks import build_masks, label_image
from ptyflow.compress._runs import Runs, build_runs, live_codes
from ptyflow.config.compress import CompressConfig
from ptyflow.dataset import Compression, DatasetMetadata, live_detectors
from ptyflow.errors import ConfigError, DatasetError

__all__ = ["LIVE_SUMS", "Compressor", "bin_dtype"]

#: Columns of ``live_out``: the live-image weight sums of ``ptyflow.dataset.live_detectors``.
LIVE_SUMS = ("bf", "adf", "sum", "ky", "kx")
_INPUT_DTYPES = tuple(np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.float32))
_FLOAT32_EXACT = 2**24  # float32 holds every integer up to here
_NO_SIGNALS = np.empty((0, 0), np.float32)  # label_live computing the live sums alone


def _max_count(bit_depth: int, dtype: np.dtype[Any]) -> int:
    """The largest count a pixel can hold: the counter's maximum, clipped by the dtype."""
    return min(2**bit_depth - 1, int(np.iinfo(dtype).max))


def bin_dtype(dtype: DTypeLike, bit_depth: int, factor: int, force_uint32: bool = False) -> Any:
    """The smallest unsigned dtype holding a ``factor`` × ``factor`` sum of full counters
    (float32 for float frames); with ``force_uint32``, uint32, checked to be wide enough."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.dtype(np.float32)
    peak = _max_count(bit_depth, dtype) * factor * factor
    fits = [t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if peak <= np.iinfo(t).max]
    chosen = np.dtype(fits[0])
    if force_uint32:
        if chosen.itemsize > 4:
            raise ConfigError(
                f"[compress.bin].dtype: uint32 overflows: a {factor}×{factor} sum of "
                f"{bit_depth}-bit counts reaches {peak}"
            )
        return np.dtype(np.uint32)
    return chosen


class Compressor:
    """The compression of one store: built once, then called on batch after batch.

    Build it from the ``[compress]`` config, the raw store's metadata (kind ``none``) and the
    frames' dtype; ``center_px`` overrides the detector centre (e.g. a measured one). It
    knows what it produces: :attr:`metadata` (the compressed store's, frame grid included),
    :attr:`out_shape`, :attr:`out_dtype`, and :attr:`masks` / :attr:`mask_names`.

    :meth:`compress` writes into buffers the caller owns (:meth:`empty_outputs` makes them
    once) and runs nogil Numba kernels, so threads may call it concurrently on disjoint
    buffers. Call :meth:`warmup` before the first frame so no compile happens mid-scan.
    """

    def __init__(
        self,
        config: CompressConfig,
        metadata: DatasetMetadata,
        dtype: DTypeLike,
        *,
        center_px: tuple[float, float] | None = None,
    ) -> None:
        self.config = config
        self.in_dtype = np.dtype(dtype)
        if self.in_dtype not in _INPUT_DTYPES:
            raise DatasetError(
                f"frames of dtype {self.in_dtype} cannot be compressed; "
                "expected uint8, uint16, uint32 or float32"
            )
        if metadata.compression.kind != "none":
            raise DatasetError(
                f"the input holds '{metadata.compression.kind}' data; only full frames "
                "(compression kind 'none') can be compressed"
            )
        if config.center == "measure" and center_px is None:
            raise ConfigError(
                '[compress].center = "measure" needs the measured centre '
                "(ptyflow.compress.measure_center) passed as center_px"
            )
        det = metadata.acquisition.detector
        if center_px is not None:
            cy, cx = (float(c) for c in center_px)
            det = det.model_validate({**det.model_dump(), "center_px": (cy, cx)})
        acq = metadata.acquisition.model_copy(update={"detector": det})
        self.in_shape: tuple[int, int] = det.shape
        self.masks: NDArray[np.float32] | None = None
        self.mask_names: tuple[str, ...] = ()
        self.path: str | None = None  # "label" or "dense" for virtual data
        self._n_live = 0  # include_live: the live maps are the last masks
        self._zero = k.accumulator_zero(self.in_dtype)
        compression = self._plan(config, metadata.model_copy(update={"acquisition": acq}))
        self.metadata = metadata.model_copy(update={"acquisition": acq, "compression": compression})
        grid = self.metadata.frame_grid
        maps = live_detectors(self.metadata)
        if self.path != "dense":
            # label path, binning and kind none: runs on the stored frame grid
            labels = self._labels if self.path == "label" else np.full(grid.shape, -1, np.int32)
            ky = (np.arange(grid.shape[0]) - grid.center_px[0]) * grid.pixel_size_inv_A
            kx = (np.arange(grid.shape[1]) - grid.center_px[1]) * grid.pixel_size_inv_A
            self._runs: Runs = build_runs(labels, live_codes(maps), ky, kx)

    # -- what it produces ----------------------------------------------------------------

    @property
    def out_shape(self) -> tuple[int, ...]:
        """One compressed frame: ``(ky, kx)``, binned ``(ky/b, kx/b)`` or ``(n_masks,)``."""
        return self.metadata.frame_shape

    @property
    def compression(self) -> Compression:
        """The store's ``compression`` metadata."""
        return self.metadata.compression

    def empty_outputs(self, n: int) -> tuple[NDArray[Any], NDArray[np.float64]]:
        """Buffers for ``n`` frames: ``(out, live_out)``; allocate once, reuse per batch."""
        return (
            np.empty((n, *self.out_shape), self.out_dtype),
            np.empty((n, len(LIVE_SUMS)), np.float64),
        )

    # -- work ----------------------------------------------------------------------------

    def warmup(self) -> None:
        """Compile (or load from Numba's disk cache) every kernel this compressor uses."""
        out, live = self.empty_outputs(2)
        self.compress(np.zeros((2, *self.in_shape), self.in_dtype), out, live)

    def compress(
        self, frames: NDArray[Any], out: NDArray[Any], live_out: NDArray[np.float64]
    ) -> None:
        """Compress ``frames`` ``(n, ky, kx)`` into ``out`` ``(n, *out_shape)`` and their live
        sums (columns :data:`LIVE_SUMS`) into ``live_out`` ``(n, 5)``. Releases the GIL."""
        n = len(frames)
        if frames.shape[1:] != self.in_shape or frames.dtype != self.in_dtype:
            raise ValueError(
                f"frames {frames.shape} {frames.dtype}, expected (n, {self.in_shape[0]}, "
                f"{self.in_shape[1]}) {self.in_dtype}"
            )
        if out.shape != (n, *self.out_shape) or out.dtype != self.out_dtype:
            raise ValueError(
                f"out {out.shape} {out.dtype}, expected {(n, *self.out_shape)} {self.out_dtype}"
            )
        if live_out.shape != (n, len(LIVE_SUMS)) or live_out.dtype != np.float64:
            raise ValueError(
                f"live_out {live_out.shape} {live_out.dtype}, expected ({n}, 5) float64"
            )
        if not (
            frames.flags.c_contiguous and out.flags.c_contiguous and live_out.flags.c_contiguous
        ):
            # another memory layout would make Numba compile a new variant mid-scan
            raise ValueError("frames, out and live_out must be C-contiguous arrays")
        kind = self.config.kind
        if kind == "bin":
            k.bin_live(
                frames, self.config.bin.factor, out, *self._runs.args(), self._zero, live_out
            )
        elif kind == "none":
            k.label_live(frames, *self._runs.args(), self._zero, _NO_SIGNALS, live_out)
            if out is not frames:
                np.copyto(out, frames)
        elif self.path == "label":
            n_designed = len(self.mask_names) - self._n_live
            k.label_live(frames, *self._runs.args(), self._zero, out[:, :n_designed], live_out)
            if self._n_live:
                out[:, n_designed:] = live_out
        else:
            self._dense(frames, out, live_out)

    # -- internals -----------------------------------------------------------------------

    def _plan(self, config: CompressConfig, metadata: DatasetMetadata) -> Compression:
        """Check the config against the detector; set the output dtype and the masks."""
        det = metadata.acquisition.detector
        if config.kind == "bin":
            b = config.bin.factor
            if det.shape[0] % b or det.shape[1] % b:
                raise ConfigError(
                    f"[compress.bin].factor: {b} does not divide the detector {det.shape}; "
                    f"choose a divisor of both sides"
                )
            self.out_dtype = bin_dtype(
                self.in_dtype, det.bit_depth, b, force_uint32=config.bin.dtype == "uint32"
            )
            return Compression(kind="bin", bin_factor=b)
        if config.kind == "none":
            self.out_dtype = self.in_dtype
            return Compression(kind="none")
        probe = metadata.model_copy(update={"compression": Compression(kind="none")})
        mask_set = build_masks(config.virtual, probe)
        self.masks, self.mask_names, self._n_live = mask_set.masks, mask_set.names, mask_set.n_live
        designed = mask_set.masks[: len(mask_set.names) - mask_set.n_live]
        labels = label_image(designed)
        if config.virtual.path == "label" and labels is None:
            raise ConfigError(
                '[compress.virtual].path = "label" needs disjoint 0/1 masks, but some overlap '
                'or have other weights; use path = "auto" or "dense"'
            )
        self.path = "label" if labels is not None and config.virtual.path != "dense" else "dense"
        if self.path == "label":
            assert labels is not None
            self._labels = labels
            # Integer sums are exact in float32 only below 2**24; wider ones go to float64.
            exact = self.in_dtype.kind == "f" or (
                _max_count(det.bit_depth, self.in_dtype) * np.bincount(labels[labels >= 0]).max()
                < _FLOAT32_EXACT
            )
            self.out_dtype = np.dtype(np.float32 if exact else np.float64)
        else:
            self.out_dtype = np.dtype(np.float32)
            live = np.stack(list(live_detectors(probe).values()))
            rows = [designed, live] + (
                [] if (len(designed) + len(live)) % 2 == 0 else [live[:1] * 0]
            )
            weights = np.concatenate(rows)  # masks, live maps, a zero row to an even count
            self._weights = np.ascontiguousarray(weights.reshape(len(weights), -1))
        return Compression(kind="virtual", mask_names=mask_set.names)

    def _dense(
        self, frames: NDArray[Any], out: NDArray[Any], live_out: NDArray[np.float64]
    ) -> None:
        """One float32 product of the frames with masks and live maps together."""
        n_designed = len(self.mask_names) - self._n_live
        flat = frames.reshape(len(frames), -1)  # a view of C-ordered frames
        k.dense_live(flat, self._weights, out[:, :n_designed], live_out)
        if self._n_live:
            out[:, n_designed:] = live_out
