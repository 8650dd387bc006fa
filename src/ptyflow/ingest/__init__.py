"""``ptyflow import``: bring 4D-STEM data from other instruments and simulators into a store.

:func:`run_import` reads a 4D array from ``.npy`` or HDF5 (py4DSTEM EMD files included) a
band of scan rows at a time, takes the beam, scan and detector calibration from an
:class:`~ptyflow.config.import_.ImportConfig`, writes a dataset store whose provenance
record names the source file by content hash, and optionally a ground truth beside it.
"""

from ptyflow.ingest._run import ImportResult, run_import

__all__ = ["ImportResult", "run_import"]
