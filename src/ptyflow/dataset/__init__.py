"""The dataset store: the contract between every stage (spec: ``docs/dataset-store.md``).

One Zarr v3 group per scan holds the frames (``data``), which scan positions really
arrived (``frames_received``), live (quick-look) images, the metadata with units, a manifest of
checksums and the provenance record.

Write with :func:`create_dataset` (a context-managed :class:`DatasetWriter`), read with
:func:`open_dataset`, check with :func:`validate_dataset`, seal a crashed store with
:func:`recover_dataset`, summarise with
:func:`render_info` and :func:`plot_overview`.
"""

from ptyflow.dataset._compare import compare_stores
from ptyflow.dataset._info import render_info
from ptyflow.dataset._layout import default_codec
from ptyflow.dataset._live import live_detectors
from ptyflow.dataset._lock import writer_running
from ptyflow.dataset._metadata import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    Acquisition,
    Compression,
    DatasetMetadata,
    DatasetState,
    Detector,
    FrameGrid,
    Scan,
)
from ptyflow.dataset._plot import plot_overview
from ptyflow.dataset._reader import Dataset, open_dataset
from ptyflow.dataset._recover import Recovery, recover_dataset
from ptyflow.dataset._store import create_dataset
from ptyflow.dataset._truth import (
    TRUTH_NAME,
    GroundTruth,
    check_truth_dir,
    read_truth,
    truth_path,
    write_truth_dir,
)
from ptyflow.dataset._validate import validate_dataset
from ptyflow.dataset._writer import DatasetWriter

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "TRUTH_NAME",
    "Acquisition",
    "Compression",
    "Dataset",
    "DatasetMetadata",
    "DatasetState",
    "DatasetWriter",
    "Detector",
    "FrameGrid",
    "GroundTruth",
    "Recovery",
    "Scan",
    "check_truth_dir",
    "compare_stores",
    "create_dataset",
    "default_codec",
    "live_detectors",
    "open_dataset",
    "plot_overview",
    "read_truth",
    "recover_dataset",
    "render_info",
    "truth_path",
    "validate_dataset",
    "write_truth_dir",
    "writer_running",
]
