"""ptyflow: 4D-STEM electron ptychography from the detector to a reconstructed phase.

Stages (data flows one way; they meet only at the dataset store, ``ptyflow.dataset``)::

    acquire -> compress -> dataset store -> transfer -> workflow -> reconstruct

Shared homes: ``ptyflow.physics`` (units, probe, propagation), ``ptyflow.dataset`` (the
store contract), ``ptyflow.config`` (typed configs), ``ptyflow.provenance`` (records).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ptyflow")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
