"""score_phase on arrays: metrics against analytic values, registration, field, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from ptyflow.errors import ScoreError
from ptyflow.score import fourier_ring_correlation, gain_offset, pearson_r, score_phase
from ptyflow.score._sampling import TruthSampler

from .conftest import smooth_truth

PIXEL_A = 0.2


def _render(truth, shift_A=(0.0, 0.0), n=60, origin=(-6.0, -6.0)):
    """The band-limited truth on an n×n result grid, seen shifted by ``shift_A``."""
    iy, ix = np.indices((n, n)) * PIXEL_A
    sampler = TruthSampler(truth, PIXEL_A)
    return sampler.sample(origin[0] + iy + shift_A[0], origin[1] + ix + shift_A[1]), origin


def test_pearson_and_gain_of_a_linear_map() -> None:
    truth = np.random.default_rng(1).normal(size=(30, 30))
    assert pearson_r(0.4 * truth + 3.0, truth) == pytest.approx(1.0)
    gain, offset = gain_offset(0.4 * truth + 3.0, truth)
    assert gain == pytest.approx(0.4) and offset == pytest.approx(3.0)
    assert pearson_r(-truth, truth) == pytest.approx(-1.0)


def test_frc_identical_reaches_nyquist_and_noise_never_correlates() -> None:
    rng = np.random.default_rng(2)
    a = ndimage.gaussian_filter(rng.normal(size=(64, 64)), 1.0)
    same = fourier_ring_correlation(a, a, 0.2)
    assert np.allclose(same.frc[1:], 1.0) and same.resolution_A == pytest.approx(0.4)
    noise = fourier_ring_correlation(a, rng.normal(size=(64, 64)), 0.2)
    assert abs(noise.frc[5:]).max() < 0.5 and noise.resolution_A > 2.0


def test_frc_resolution_worsens_with_blur() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(96, 96))
    noise = rng.normal(size=a.shape) * 0.3
    res = [
        fourier_ring_correlation(ndimage.gaussian_filter(a, s) + noise, a, 0.1).resolution_A
        for s in (0.5, 1.0, 2.0)
    ]
    assert res[0] < res[1] < res[2]


@pytest.mark.parametrize("shift_A", [(0.0, 0.0), (0.13, -0.27), (-0.9, 0.55)])
def test_known_shift_is_recovered_and_scores_perfect(shift_A: tuple[float, float]) -> None:
    truth = smooth_truth()
    image, origin = _render(truth, shift_A)
    score = score_phase(image, PIXEL_A, origin, truth)
    assert score.shift_A == pytest.approx(shift_A, abs=0.01)
    assert score.pearson_r > 0.9999 and score.gain == pytest.approx(1.0, abs=1e-3)
    assert not score.warnings


def test_weak_noisy_result_gain_and_r() -> None:
    truth = smooth_truth()
    image, origin = _render(truth, (0.2, 0.1))
    noisy = 0.5 * image + 1.0 + np.random.default_rng(4).normal(size=image.shape) * 0.05
    score = score_phase(noisy, PIXEL_A, origin, truth)
    assert score.gain == pytest.approx(0.5, abs=0.02)
    assert score.offset_rad == pytest.approx(1.0, abs=0.1)
    assert 0.7 < score.pearson_r < 0.999


def test_field_is_the_scan_hull_minus_the_margin() -> None:
    # 20×20 scan at 0.4 Å: hull 7.6 Å square; minus 1 Å each side: 5.6 Å → 28 or 29 px of 0.2 Å
    truth = smooth_truth()
    image, origin = _render(truth)
    n = score_phase(image, PIXEL_A, origin, truth).n_pixels
    assert 28**2 <= n <= 29**2
    rotated = smooth_truth(rotation_deg=30.0)
    image, origin = _render(rotated)
    assert 28**2 <= score_phase(image, PIXEL_A, origin, rotated).n_pixels <= 29**2


def test_stack_is_summed_and_wrong_calibration_warns() -> None:
    truth = smooth_truth()
    image, origin = _render(truth, (0.1, 0.0))
    stacked = score_phase(np.stack([image / 2, image / 2]), PIXEL_A, origin, truth)
    assert stacked.pearson_r > 0.9999
    # An origin 2.5 Å off: beyond the default ±2 Å search, which says so; a wider search
    # finds it.
    wrong = (origin[0] + 2.5, origin[1])
    off = score_phase(image, PIXEL_A, wrong, truth)
    assert any("origin, pixel size or scan rotation is off" in w for w in off.warnings)
    found = score_phase(image, PIXEL_A, wrong, truth, max_shift_A=4.0)
    assert found.shift_A == pytest.approx((-2.4, 0.0), abs=0.01) and not found.warnings


def test_scale_and_rotation_fit_only_when_asked() -> None:
    truth = smooth_truth()
    iy, ix = np.indices((60, 60)) * PIXEL_A - 6.0
    theta = math.radians(2.0)
    y = 1.02 * (math.sin(theta) * ix + math.cos(theta) * iy)
    x = 1.02 * (math.cos(theta) * ix - math.sin(theta) * iy)
    image = TruthSampler(truth, PIXEL_A).sample(y, x)
    plain = score_phase(image, PIXEL_A, (-6.0, -6.0), truth)
    assert plain.scale == 1.0 and plain.rotation_deg == 0.0
    fitted = score_phase(image, PIXEL_A, (-6.0, -6.0), truth, fit_scale=True, fit_rotation=True)
    assert fitted.scale == pytest.approx(1.02, abs=2e-3)
    assert fitted.rotation_deg == pytest.approx(2.0, abs=0.1)
    assert fitted.pearson_r > plain.pearson_r and fitted.pearson_r > 0.999


def test_bad_inputs_name_the_problem() -> None:
    truth = smooth_truth()
    image, origin = _render(truth)
    with pytest.raises(ScoreError, match="NaN"):
        score_phase(np.where(image > 0, np.nan, image), PIXEL_A, origin, truth)
    with pytest.raises(ScoreError, match="no result pixel lies inside the scanned field"):
        score_phase(image, PIXEL_A, (100.0, 100.0), truth)
    with pytest.raises(ScoreError, match="outside the ground truth"):
        field = [[-30, -30], [-30, 30], [30, 0]]
        score_phase(np.zeros((200, 200)), PIXEL_A, (-20.0, -20.0), truth, field_A=field)
    with pytest.raises(ScoreError, match="do not span an area"):
        score_phase(image, PIXEL_A, origin, truth, field_A=[[0, 0], [0, 1], [0, 2]])
    with pytest.raises(ScoreError, match="margin_A must be a finite number >= 0, got -1"):
        score_phase(image, PIXEL_A, origin, truth, margin_A=-1.0)  # would widen the field
