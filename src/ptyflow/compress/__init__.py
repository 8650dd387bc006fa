"""On-the-fly compression: Numba kernels (binning, virtual detectors, centre of mass).

Its output is recorded in the store's ``compression`` attributes (``ptyflow.dataset``).
Not implemented yet: see the project's issues.
"""
