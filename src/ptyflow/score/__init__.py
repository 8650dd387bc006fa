"""``ptyflow score``: compare a reconstruction with the ground truth of its dataset.

:func:`score_phase` registers a phase image on a :class:`~ptyflow.dataset.GroundTruth`
(sub-pixel shift in the result's own calibration) and measures Pearson r, the gain and
the FRC resolution over the scanned field; :func:`score_result` does it for a result store
(read through ``ptyflow.reconstruct.open_result``) and :func:`plot_score` draws it.
"""

from ptyflow.score._metrics import FRC, fourier_ring_correlation, gain_offset, pearson_r
from ptyflow.score._result import plot_score, result_phase, score_result
from ptyflow.score._score import Score, score_phase

__all__ = [
    "FRC",
    "Score",
    "fourier_ring_correlation",
    "gain_offset",
    "pearson_r",
    "plot_score",
    "result_phase",
    "score_phase",
    "score_result",
]
