"""Property tests of the writer: any arrival order, any gaps, any batching, any shard layout.

Whatever order frames arrive in, and whichever never arrive, the store must hold exactly
the frames written, mark exactly those as received, and never yield a missing one.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptyflow.dataset import DatasetMetadata, create_dataset, open_dataset, validate_dataset


@st.composite
def arrivals(draw: st.DrawFn) -> dict[str, Any]:
    ny, nx = draw(st.integers(1, 7)), draw(st.integers(1, 9))
    n = ny * nx
    order = draw(st.permutations(range(n)))
    kept = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    runs = draw(st.integers(1, 4))  # frames per write_frames call, where indices are consecutive
    shard = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    chunk = (draw(st.integers(1, shard[0])), draw(st.integers(1, shard[1])))
    while shard[0] % chunk[0] or shard[1] % chunk[1]:  # chunks must tile a shard
        chunk = (chunk[0] - 1 or 1, chunk[1] - 1 or 1)
    return {
        "scan": (ny, nx),
        "order": [i for i in order if kept[i]],
        "run": runs,
        "shard": shard,
        "chunk": chunk,
    }


def _batches(order: list[int], run: int) -> list[tuple[int, int]]:
    """Group the arrival order into (start, count) calls of up to ``run`` consecutive frames."""
    out: list[tuple[int, int]] = []
    for i in order:
        if out and out[-1][0] + out[-1][1] == i and out[-1][1] < run:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((i, 1))
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=arrivals())
def test_store_holds_exactly_what_arrived(
    case: dict[str, Any], make_metadata: Callable[..., DatasetMetadata]
) -> None:
    ny, nx = case["scan"]
    rng = np.random.default_rng(len(case["order"]))
    frames = rng.integers(1, 60_000, size=(ny * nx, 6, 5), dtype=np.uint16)  # never the fill 0
    tmp = Path(tempfile.mkdtemp())
    try:
        store = tmp / "p.zarr"
        md = make_metadata(scan_shape=(ny, nx), det_shape=(6, 5))
        with create_dataset(
            store, md, dtype=np.uint16, shard_nav=case["shard"], chunk_nav=case["chunk"]
        ) as writer:
            for start, count in _batches(case["order"], case["run"]):
                writer.write_frames(start, frames[start : start + count])

        ds = open_dataset(store)
        arrived = np.zeros(ny * nx, dtype=bool)
        arrived[case["order"]] = True
        np.testing.assert_array_equal(ds.frames_received.ravel(), arrived)
        assert ds.state.value == ("complete" if arrived.all() else "incomplete")
        data = np.asarray(ds.data_array[:]).reshape(ny * nx, 6, 5)
        np.testing.assert_array_equal(data[arrived], frames[arrived])
        yielded = {iy * nx + ix: f for (iy, ix), f in ds.iter_frames()}
        assert sorted(yielded) == sorted(case["order"])
        for i, frame in yielded.items():
            np.testing.assert_array_equal(frame, frames[i])
        assert validate_dataset(store, verify_checksums=True) == []
    finally:
        shutil.rmtree(tmp)
