"""Every kernel against a plain numpy reference: exact for integer sums, float32 rounding
for float weights; the output dtype is the smallest that cannot overflow."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from ptyflow.compress import KERNELS, LIVE_SUMS, bin_dtype
from ptyflow.compress._reference import bin_numpy, masks_numpy, moments_numpy
from ptyflow.dataset import live_detectors
from ptyflow.errors import ConfigError

from .conftest import compressor, disk_frames, raw_metadata, run

FRAME_TYPES = [(np.uint8, 8), (np.uint16, 12), (np.uint16, 16), (np.uint32, 32)]


@pytest.mark.parametrize(("dtype", "bits"), FRAME_TYPES)
@pytest.mark.parametrize("factor", [2, 3, 4])
def test_bin_is_exact_up_to_the_counter_maximum(dtype: type, bits: int, factor: int) -> None:
    frames = disk_frames(4, dtype, peak=50.0)
    frames[0] = 2**bits - 1  # a saturated frame: the largest sum the dtype must hold
    comp = compressor({"kind": "bin", "bin": {"factor": factor}}, dtype, bit_depth=bits)
    out, live = run(comp, frames)
    assert out.dtype == bin_dtype(dtype, bits, factor)
    np.testing.assert_array_equal(out, bin_numpy(frames, factor))
    # live sums of the binned frames, on the binned grid (as the writer would compute them)
    maps = np.stack(list(live_detectors(comp.metadata).values()))
    expected = masks_numpy(out, maps)
    np.testing.assert_array_equal(live[:, :3], expected[:, :3])  # bf, adf, sum: exact
    # ky, kx: the kernels use float64 frequencies, live_detectors float32 ones
    np.testing.assert_allclose(live[:, 3:], expected[:, 3:], rtol=1e-5)


def test_bin_of_float_frames_stays_float32() -> None:
    frames = disk_frames(3, np.float32) * np.float32(0.37)
    out, _ = run(compressor({"kind": "bin"}, np.float32), frames)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, bin_numpy(frames, 2), rtol=1e-6)


@pytest.mark.parametrize(
    ("dtype", "bits", "factor", "expected"),
    [
        (np.uint8, 8, 2, np.uint16),  # 4 × 255 > 255
        (np.uint16, 12, 2, np.uint16),  # 4 × 4095 = 16380
        (np.uint16, 12, 4, np.uint16),  # 16 × 4095 = 65520 ≤ 65535
        (np.uint16, 12, 8, np.uint32),
        (np.uint16, 16, 2, np.uint32),
        (np.uint32, 32, 2, np.uint64),
        (np.uint16, 32, 2, np.uint32),  # the dtype bounds the counts too
    ],
)
def test_bin_dtype_is_the_smallest_that_cannot_overflow(
    dtype: type, bits: int, factor: int, expected: type
) -> None:
    assert bin_dtype(dtype, bits, factor) == np.dtype(expected)


def test_forced_uint32_is_checked() -> None:
    assert bin_dtype(np.uint16, 12, 2, force_uint32=True) == np.dtype(np.uint32)
    with pytest.raises(ConfigError, match=r"\[compress.bin\].dtype.*uint32 overflows"):
        bin_dtype(np.uint32, 32, 2, force_uint32=True)


@pytest.mark.parametrize(
    ("bits", "detectors", "dtype"),
    [
        (12, None, np.float32),  # 32 segments: each sum < 2**24, exact in float32
        (16, None, np.float32),
        (16, [{"kind": "bf"}, {"kind": "adf", "inner_mrad": 25}], np.float64),  # 300+ px
    ],
)
def test_label_masks_are_exact_sums(
    counter_max: np.ndarray, bits: int, detectors: list[dict[str, object]] | None, dtype: type
) -> None:
    virtual = {} if detectors is None else {"detectors": detectors}
    comp = compressor({"kind": "virtual", "virtual": virtual}, np.uint16, bit_depth=bits)
    assert comp.path == "label" and comp.masks is not None
    frames = np.concatenate([counter_max, disk_frames(5, np.uint16, seed=1)])
    frames[0] = 2**bits - 1
    out, live = run(comp, frames)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, masks_numpy(frames, comp.masks))
    maps = np.stack(list(live_detectors(comp.metadata).values()))
    expected = masks_numpy(frames, maps)
    np.testing.assert_array_equal(live[:, :3], expected[:, :3])
    np.testing.assert_allclose(live[:, 3:], expected[:, 3:], rtol=1e-5)
    assert tuple(live_detectors(comp.metadata)) == LIVE_SUMS


def test_dense_masks_within_float32_rounding(tmp_path: object) -> None:
    rng = np.random.default_rng(3)
    masks = rng.random((16, 48, 48)).astype(np.float32)  # overlapping weights
    path = f"{tmp_path}/m.npy"
    np.save(path, masks)
    comp = compressor(
        {"kind": "virtual", "virtual": {"detectors": [{"kind": "custom", "path": path}]}}
    )
    assert comp.path == "dense"
    frames = disk_frames(6, np.uint16)
    frames[0] = 4095
    out, live = run(comp, frames)
    reference = masks_numpy(frames, masks)
    bound = masks_numpy(frames, np.abs(masks)) * 48 * 48 * np.finfo(np.float32).eps
    assert np.all(np.abs(out - reference) <= bound)
    maps = np.stack(list(live_detectors(comp.metadata).values()))
    assert np.all(
        np.abs(live - masks_numpy(frames, maps)) <= masks_numpy(frames, np.abs(maps)) * 1e-3
    )


def test_label_and_dense_paths_agree_and_float_frames_work() -> None:
    frames = disk_frames(4, np.float32) * np.float32(1.5)
    label, live_l = run(compressor({"kind": "virtual"}, np.float32), frames)
    dense, live_d = run(
        compressor({"kind": "virtual", "virtual": {"path": "dense"}}, np.float32), frames
    )
    np.testing.assert_allclose(label, dense, rtol=1e-5)
    np.testing.assert_allclose(live_l, live_d, rtol=1e-5, atol=1e-3)


def test_moments_give_the_centre_of_mass() -> None:
    md = raw_metadata()
    maps = live_detectors(md)
    k_y, k_x = maps["ky"][:, 0].astype(np.float64), maps["kx"][0].astype(np.float64)
    for dtype in (np.uint8, np.uint16, np.uint32, np.float32):
        frames = disk_frames(5, dtype)
        out = np.empty((5, 3))
        KERNELS["moments"](
            frames, k_y, k_x, np.float64(0) if dtype == np.float32 else np.int64(0), out
        )
        np.testing.assert_allclose(out, moments_numpy(frames, k_y, k_x), rtol=1e-12, atol=1e-9)


def test_kind_none_copies_frames_and_computes_live() -> None:
    frames = disk_frames(4, np.uint16)
    out, live = run(compressor({"kind": "none"}), frames)
    np.testing.assert_array_equal(out, frames)
    assert np.array_equal(live[:, 2], frames.sum(axis=(1, 2)))


def test_threads_on_disjoint_buffers_match_one_thread() -> None:
    comp = compressor({"kind": "virtual", "virtual": {"path": "dense"}})
    frames = disk_frames(64, np.uint16)
    single, _ = run(comp, frames)
    out, live = comp.empty_outputs(64)
    halves = [slice(0, 32), slice(32, 64)]
    threads = [
        threading.Thread(target=comp.compress, args=(frames[h], out[h], live[h])) for h in halves
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(out, single)


def test_wrong_buffers_are_refused() -> None:
    comp = compressor({"kind": "bin"})
    frames = disk_frames(2, np.uint16)
    out, live = comp.empty_outputs(3)
    with pytest.raises(ValueError, match="out"):
        comp.compress(frames, out, live[:2])
    with pytest.raises(ValueError, match="frames"):
        comp.compress(frames.astype(np.uint8), out[:2], live[:2])
    with pytest.raises(ValueError, match="C-contiguous"):
        comp.compress(frames.transpose(0, 2, 1), out[:2], live[:2])


def test_public_surface_is_exactly_all() -> None:
    import ptyflow.compress as module

    public = {a for a in vars(module) if not a.startswith("_")}
    submodules = {a for a in public if type(getattr(module, a)).__name__ == "module"}
    assert public - submodules == set(module.__all__)
