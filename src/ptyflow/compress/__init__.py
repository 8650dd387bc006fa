"""Compression: Numba kernels for binning, virtual detectors and centre of mass.

What is kept of each frame is set by the ``[compress]`` config
(:class:`ptyflow.config.compress.CompressConfig`) and recorded in the store's
``compression`` metadata (``docs/dataset-store.md`` §4).

The API the acquisition daemon and ``ptyflow compress`` share::

    comp = Compressor(config.compress, raw_metadata, np.uint16)   # checks config vs detector
    comp.warmup()                        # compile / load from Numba's cache before frame 1
    out, live = comp.empty_outputs(256)  # buffers allocated once, reused per batch
    comp.compress(frames, out, live)     # nogil: threads may run it on disjoint buffers
                                         # (C-contiguous: another layout would compile anew)
    create_dataset(path, comp.metadata, dtype=comp.out_dtype, masks=comp.masks)
    writer.write_frames(start, out, live=live)  # live images from the same pass

- ``comp.metadata``: the compressed store's metadata (compression kind, frame grid);
  ``comp.out_shape`` / ``comp.out_dtype``: one compressed frame; ``comp.masks`` /
  ``comp.mask_names``: the virtual-detector masks (kind ``virtual``), ``comp.path``:
  ``"label"`` (disjoint 0/1 masks, one sweep of row runs) or ``"dense"`` (one float32
  matrix product per batch), chosen automatically.
- ``live`` ``(n, 5)`` float64 holds the live-image weight sums :data:`LIVE_SUMS`
  (``bf, adf, sum, Σ k_y I, Σ k_x I``) of each frame, on the stored frame grid.
- :func:`measure_center` finds k = 0 from the bright-field disk (``center = "measure"``).
- :func:`compress_store` is ``ptyflow compress``; :func:`warm_up_all` and
  :func:`kernel_status` report whether the kernels are compiled and cached
  (``ptyflow info --kernels``).
- The raw kernels (``bin_live``, ``label_live``, ``dense_live``, ``moments``) are in
  :data:`KERNELS`.
"""

from ptyflow.compress._center import measure_center
from ptyflow.compress._compressor import LIVE_SUMS, Compressor, bin_dtype
from ptyflow.compress._kernels import KERNELS
from ptyflow.compress._masks import MaskSet, build_masks
from ptyflow.compress._status import KernelStatus, kernel_status, warm_up_all
from ptyflow.compress._store import CompressResult, compress_store

__all__ = [
    "KERNELS",
    "LIVE_SUMS",
    "CompressResult",
    "Compressor",
    "KernelStatus",
    "MaskSet",
    "bin_dtype",
    "build_masks",
    "compress_store",
    "kernel_status",
    "measure_center",
    "warm_up_all",
]
