"""Builders that tests, benchmarks and later stages share (like ``zarr.testing``).

- :func:`make_metadata`: valid metadata of a small scan, every part adjustable;
- :func:`poisson_frames`: sparse, distinct diffraction-like counts;
- :func:`write_store`: a store written frame by frame, with chosen frames left out;
- :func:`run_cli`: ``ptyflow ARGS`` as a real process (:func:`start_cli`: started, not
  waited for); :data:`TINY_SIMULATION`: the ``--set`` overrides of a seconds-long
  ``ptyflow simulate`` of the template;
- :func:`merge_sections`: a base config with some nested keys overridden;
  :func:`undocumented_keys`: what a config template leaves out;
- :func:`reference_store`: the shared abTEM SrTiO3 reference (raw, noise-free, binned or
  virtual-detector signals, a scan crop) as a store; :func:`score_reference` and
  :func:`score_phase` score a reconstruction against its truth with the shared scorer;
  :func:`segmented_masks`: ring-and-sector virtual detectors.
- :func:`small_disk`: a tmpfs of a chosen size, to fill up (needs root);
- :func:`wait_until`: poll for what a real process does, failing after a hang guard;
- :mod:`ptyflow.testing.sshd` (imported on its own): a private ``sshd`` on 127.0.0.1 with
  generated keys and a pinned ``known_hosts``, for the transfer tests and benchmark.

The test suite turns them into fixtures in ``tests/conftest.py``; nothing here needs pytest.
"""

from ptyflow.testing._builders import make_metadata, poisson_frames, write_store
from ptyflow.testing._cli import TINY_SIMULATION, run_cli, start_cli
from ptyflow.testing._configs import merge_sections, undocumented_keys
from ptyflow.testing._disk import small_disk
from ptyflow.testing._reference import (
    REFERENCE_VARIANTS,
    reference_store,
    score_phase,
    score_reference,
    segmented_masks,
)
from ptyflow.testing._wait import wait_until

__all__ = [
    "REFERENCE_VARIANTS",
    "TINY_SIMULATION",
    "make_metadata",
    "merge_sections",
    "poisson_frames",
    "reference_store",
    "run_cli",
    "score_phase",
    "score_reference",
    "segmented_masks",
    "small_disk",
    "start_cli",
    "undocumented_keys",
    "wait_until",
    "write_store",
]
