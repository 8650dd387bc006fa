"""Arrays in ``.npy`` and HDF5 files, read a band of scan rows at a time.

``.npy`` files are memory-mapped and HDF5 datasets sliced, so a file larger than the RAM
imports: only the rows asked for are ever read.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow.config.import_ import FRAME_AXES, STACK_AXES
from ptyflow.errors import ConfigError, DatasetError

__all__ = ["Source", "open_array"]

_HDF5_SUFFIXES = {".h5", ".hdf5", ".hdf", ".emd", ".nxs", ".nx5", ".he5"}


def _hdf5_datasets(h5: Any) -> list[tuple[str, tuple[int, ...], str]]:
    """Every dataset in an open HDF5 file: (path, shape, dtype), 4D ones first."""
    import h5py

    found: list[tuple[str, tuple[int, ...], str]] = []

    def visit(name: str, node: Any) -> None:
        if isinstance(node, h5py.Dataset):
            found.append(("/" + name, tuple(node.shape), str(node.dtype)))

    h5.visititems(visit)
    return sorted(found, key=lambda d: (len(d[1]) != 4, d[0]))


def _listing(datasets: list[tuple[str, tuple[int, ...], str]]) -> str:
    if not datasets:
        return "the file holds no datasets"
    shown = [f"{p} {s} {d}" for p, s, d in datasets[:20]]
    more = f"\n    ... and {len(datasets) - 20} more" if len(datasets) > 20 else ""
    return "datasets in the file:\n    " + "\n    ".join(shown) + more


def open_array(path: Path, dataset: str | None, key: str) -> tuple[Any, Any]:
    """The array at ``path`` (``dataset`` inside an HDF5 file) and the open file to close
    (None for .npy). ``key`` names the config key of ``dataset`` in errors."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    if path.suffix.lower() == ".npy":
        if dataset is not None:
            raise ConfigError(f"{key} = {dataset!r}: {path} is a .npy file, which holds one array")
        with open(path, "rb") as fh:  # else numpy's error speaks of pickled data
            if fh.read(6) != b"\x93NUMPY":
                raise DatasetError(f"{path}: not a .npy file (no NumPy header at its start)")
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False), None
        except (ValueError, OSError) as err:
            raise DatasetError(f"{path}: not a readable .npy array: {err}") from None
    if path.suffix.lower() not in _HDF5_SUFFIXES:
        raise DatasetError(
            f"{path}: unknown file type {path.suffix!r}; expected .npy or HDF5 "
            f"({', '.join(sorted(_HDF5_SUFFIXES))})"
        )
    import h5py

    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        raise DatasetError(f"{path}: not a readable HDF5 file: {err}") from None
    try:
        return _hdf5_array(h5, path, dataset, key), h5
    except BaseException:
        h5.close()
        raise


def _hdf5_array(h5: Any, path: Path, dataset: str | None, key: str) -> Any:
    import h5py

    datasets = _hdf5_datasets(h5)
    if dataset is None:
        four_d = [d for d in datasets if len(d[1]) == 4]
        if len(four_d) != 1:
            raise ConfigError(
                f"{path}: set {key}: the file has {len(four_d)} 4D datasets, not one; "
                + _listing(datasets)
            )
        dataset = four_d[0][0]
    node = h5.get(dataset)
    if not isinstance(node, h5py.Dataset):
        what = "a group, not a dataset" if node is not None else "not in the file"
        raise ConfigError(f"{path}: {key} = {dataset!r} is {what}; " + _listing(datasets))
    return node


class Source:
    """A 4D source array viewed as (scan_y, scan_x, ky, kx), read by bands of scan rows."""

    def __init__(
        self, path: Path, dataset: str | None, axes: tuple[str, ...], scan_shape: tuple[int, int]
    ) -> None:
        self.path = path
        self._array, self._file = open_array(path, dataset, "[source].dataset")
        self.dataset = getattr(self._array, "name", None)
        self._axes = axes
        try:
            self._check(scan_shape)
        except BaseException:
            self.close()
            raise
        self.scan_shape = scan_shape

    def _check(self, scan_shape: tuple[int, int]) -> None:
        shape, dtype = tuple(self._array.shape), np.dtype(self._array.dtype)
        where = f"{self.path}" + (f":{self.dataset}" if self.dataset else "")
        if dtype.kind not in "uif":
            raise DatasetError(f"{where}: dtype {dtype} is not counts (integer or float)")
        if len(shape) != len(self._axes):
            raise DatasetError(
                f"{where}: array of shape {shape} has {len(shape)} axes, but [source].axes "
                f"names {len(self._axes)}: {list(self._axes)}"
            )
        sizes = dict(zip(self._axes, shape, strict=True))
        stack = "scan" in sizes
        nav = (sizes["scan"],) if stack else (sizes["scan_y"], sizes["scan_x"])
        want = (scan_shape[0] * scan_shape[1],) if stack else tuple(scan_shape)
        if nav != want:
            hint = self._axes_hint(shape, scan_shape)
            raise DatasetError(
                f"{where}: array of shape {shape} read with [source].axes = "
                f"{list(self._axes)} has {nav} scan positions, but [scan].shape = "
                f"{list(scan_shape)} needs {want}" + hint
            )
        self.frame_shape = (sizes["ky"], sizes["kx"])
        self.dtype = dtype

    def _axes_hint(self, shape: tuple[int, ...], scan_shape: tuple[int, int]) -> str:
        """Axis orders under which the array would fit the scan, as a suggestion."""
        names = FRAME_AXES if len(shape) == 4 else STACK_AXES
        fits = []
        for order in itertools.permutations(names):
            sizes = dict(zip(order, shape, strict=True))
            nav = (sizes["scan"],) if "scan" in sizes else (sizes["scan_y"], sizes["scan_x"])
            want = (scan_shape[0] * scan_shape[1],) if "scan" in sizes else scan_shape
            if nav == tuple(want) and list(order) != list(self._axes):
                fits.append(list(order))
        return f"; axes that would fit: {fits[:4]}" if fits else ""

    @property
    def n_rows(self) -> int:
        return self.scan_shape[0]

    def read_rows(self, start: int, stop: int) -> NDArray[Any]:
        """Scan rows ``start:stop`` as (rows, nx, ky, kx), read from the file now."""
        nx = self.scan_shape[1]
        if "scan" in self._axes:
            index = [slice(None)] * 3
            index[self._axes.index("scan")] = slice(start * nx, stop * nx)
            block = np.asarray(self._array[tuple(index)])
            block = np.transpose(block, [self._axes.index(a) for a in STACK_AXES])
            return block.reshape(stop - start, nx, *self.frame_shape)
        index = [slice(None)] * 4
        index[self._axes.index("scan_y")] = slice(start, stop)
        block = np.asarray(self._array[tuple(index)])
        return np.transpose(block, [self._axes.index(a) for a in FRAME_AXES])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
