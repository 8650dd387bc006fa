"""``ptyflow score``: compare a reconstruction with the ground truth of its dataset.

:func:`score_phase` registers a phase image on a :class:`~ptyflow.dataset.GroundTruth`
(sub-pixel shift in the result's own calibration) and measures Pearson r, the gain and
the FRC resolution over the scanned field.
"""

from ptyflow.score._metrics import FRC, fourier_ring_correlation, gain_offset, pearson_r
from ptyflow.score._score import Score, score_phase

__all__ = [
    "FRC",
    "Score",
    "fourier_ring_correlation",
    "gain_offset",
    "pearson_r",
    "score_phase",
]
