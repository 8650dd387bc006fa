"""Live (quick-look) images against an independent computation, and virtual-detector stores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ptyflow.dataset import Compression, DatasetState, create_dataset, live_detectors, open_dataset
from ptyflow.errors import DatasetError

LAMBDA_300KEV_A = 0.0196875  # relativistic electron wavelength at 300 keV, from tables
SCAN = (3, 4)
DET = (32, 32)


def _disk_frames() -> np.ndarray:
    """A disk of radius 6 px shifted by a different (dy, dx) at every scan position, plus a
    sparse dark-field background."""
    rng = np.random.default_rng(1)
    iy, ix = np.mgrid[: DET[0], : DET[1]]
    frames = []
    for n in range(math.prod(SCAN)):
        dy, dx = n % 3 - 1, n % 4 - 2
        disk = np.hypot(iy - 16 - dy, ix - 16 - dx) <= 6
        frames.append(100 * disk + rng.poisson(0.5, size=DET))
    return np.asarray(frames, dtype=np.uint16)


def _reference_images(frames: np.ndarray) -> dict[str, np.ndarray]:
    """BF, ADF and COM pixel by pixel, straight from the definitions in the spec."""
    k_bf = 20e-3 / LAMBDA_300KEV_A  # semi-angle / wavelength [1/Å]
    out = {name: np.empty(len(frames)) for name in ("bf", "adf", "com_y", "com_x")}
    for n, frame in enumerate(frames):
        bf = adf = total = sy = sx = 0.0
        for iy in range(DET[0]):
            for ix in range(DET[1]):
                ky, kx = (iy - 16) * 0.1, (ix - 16) * 0.1
                v = float(frame[iy, ix])
                total, sy, sx = total + v, sy + ky * v, sx + kx * v
                k = math.hypot(ky, kx)
                bf += v if k <= k_bf else 0.0
                adf += v if k > 1.25 * k_bf else 0.0
        out["bf"][n], out["adf"][n] = bf, adf
        out["com_y"][n], out["com_x"][n] = sy / total, sx / total
    return {name: values.reshape(SCAN) for name, values in out.items()}


def test_live_images_match_independent_computation(tmp_path, make_metadata, write_store) -> None:
    frames = _disk_frames()
    store = write_store(tmp_path / "s.zarr", make_metadata(SCAN, DET), frames, skip=(5,))
    images = open_dataset(store).live_images
    reference = _reference_images(frames)
    for name, image in images.items():
        assert image.dtype == np.float32
        assert np.isnan(image[1, 1]), name  # frame 5 never arrived
        reference[name][1, 1] = np.nan
        np.testing.assert_allclose(image, reference[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_com_points_towards_the_shifted_disk(tmp_path, make_metadata, write_store) -> None:
    frames = np.zeros((math.prod(SCAN), *DET), np.uint16)
    frames[:, 16 + 3, 16 - 2] = 50  # all intensity 3 px down (+ky) and 2 px left (−kx)
    images = open_dataset(
        write_store(tmp_path / "s.zarr", make_metadata(SCAN, DET), frames)
    ).live_images
    np.testing.assert_allclose(images["com_y"], 0.3, rtol=1e-6)
    np.testing.assert_allclose(images["com_x"], -0.2, rtol=1e-6)


def _virtual_metadata(make_metadata, names):
    return make_metadata(SCAN, DET, compression=Compression(kind="virtual", mask_names=names))


def test_virtual_store_round_trips_signals_and_masks(tmp_path, make_metadata) -> None:
    frames = _disk_frames()
    detectors = live_detectors(make_metadata(SCAN, DET))
    masks = np.stack([*detectors.values(), np.random.default_rng(2).random(DET, np.float32)])
    names = (*detectors, "random")
    signals = np.einsum("nij,mij->nm", frames.astype(np.float64), masks).astype(np.float32)
    md = _virtual_metadata(make_metadata, names)
    with create_dataset(tmp_path / "v.zarr", md, dtype=np.float32, masks=masks) as w:
        w.write_frames(0, signals[:7])
        w.write_frames(8, signals[8:])

    ds = open_dataset(tmp_path / "v.zarr")
    assert ds.state is DatasetState.INCOMPLETE and ds.frame_shape == (6,)
    np.testing.assert_array_equal(ds.masks, masks)
    np.testing.assert_array_equal(ds.read_frame((0, 3)), signals[3])
    assert ds.metadata.compression.mask_names == names
    # the masks span the live detectors, so the live images come out as from the frames
    reference = _reference_images(frames)
    for name, image in ds.live_images.items():
        reference[name][1, 3] = np.nan  # flat index 7 was skipped
        np.testing.assert_allclose(image, reference[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_virtual_store_without_spanning_masks_has_nan_images(tmp_path, make_metadata) -> None:
    masks = np.random.default_rng(3).random((2, *DET)).astype(np.float32)
    md = _virtual_metadata(make_metadata, ("a", "b"))
    with create_dataset(tmp_path / "v.zarr", md, dtype=np.float32, masks=masks) as w:
        w.write_frames(0, np.ones((12, 2), np.float32))
    ds = open_dataset(tmp_path / "v.zarr")
    assert ds.state is DatasetState.COMPLETE
    assert all(np.isnan(image).all() for image in ds.live_images.values())


def test_masks_are_required_exactly_for_virtual_data(tmp_path, make_metadata) -> None:
    md = _virtual_metadata(make_metadata, ("a", "b"))
    with pytest.raises(DatasetError, match=r"masks of shape \(2, 32, 32\), got None"):
        create_dataset(tmp_path / "v.zarr", md, dtype=np.float32)
    with pytest.raises(DatasetError, match="need a float dtype"):
        create_dataset(tmp_path / "v.zarr", md, dtype=np.uint16, masks=np.ones((2, *DET)))
    with pytest.raises(DatasetError, match="only stored for compression kind 'virtual'"):
        create_dataset(
            tmp_path / "f.zarr", make_metadata(), dtype=np.uint16, masks=np.ones((2, *DET))
        )
    assert not (tmp_path / "v.zarr").exists() and not (tmp_path / "f.zarr").exists()


@pytest.mark.parametrize("bin_factor", [2, 4])
def test_binned_centre_of_mass_matches_the_raw_frames(
    tmp_path, make_metadata, write_store, bin_factor
) -> None:
    # Frames that are uniform inside every b×b bin lose nothing to binning, so the centre of
    # mass of the binned store must equal that of the raw store exactly: this pins the
    # binned frame grid (its pixel size and its centre (c + 0.5)/b − 0.5) independently.
    b = bin_factor
    binned = _disk_frames()[:, ::b, ::b]
    raw_frames = np.kron(binned, np.ones((1, b, b), dtype=np.uint16))
    raw = open_dataset(
        write_store(tmp_path / "raw.zarr", make_metadata(SCAN, DET), raw_frames)
    ).live_images
    md = make_metadata(SCAN, DET, compression=Compression(kind="bin", bin_factor=b))
    binned_images = open_dataset(
        write_store(tmp_path / "bin.zarr", md, binned * np.uint16(b * b))
    ).live_images
    for name in ("com_y", "com_x"):
        assert np.abs(raw[name]).max() > 0.01, name  # the test needs a real deflection
        np.testing.assert_allclose(binned_images[name], raw[name], rtol=1e-5, err_msg=name)
