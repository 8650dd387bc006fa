"""The writer's per-block bookkeeping against a plain per-frame Python reference.

Random frame-id sequences (runs in order, reordered stretches, gaps, duplicates, ids past
the scan or negative) cut into blocks of random sizes, fed to ``SeriesManager.handle`` as
the decode workers would: the counts, ``frames_received`` and the stored frames must equal
what a loop over single frames decides.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ptyflow.acquire._events import FrameBlock, SeriesEnd, SeriesStart
from ptyflow.acquire._manager import SeriesManager
from ptyflow.config import load_toml
from ptyflow.config.acquire import AcquireConfig
from ptyflow.dataset import open_dataset

ACQUIRE_TOML = Path(__file__).resolve().parents[2] / "configs" / "acquire.toml"
SCAN = (6, 10)
N = SCAN[0] * SCAN[1]
LATER_COPY = 1000  # later copies of an id carry other pixels: the first copy must win


def _reference(ids: list[int]) -> tuple[dict[str, int], set[int]]:
    """Per frame: out of range, duplicate, out of order (below the highest id so far)."""
    counts = dict.fromkeys(("received", "duplicate", "out_of_order", "out_of_range"), 0)
    seen: set[int] = set()
    highest = -1
    for i in ids:
        if not 0 <= i < N:
            counts["out_of_range"] += 1
        elif i in seen:
            counts["duplicate"] += 1
        else:
            counts["out_of_order"] += i < highest
            highest = max(highest, i)
            seen.add(i)
            counts["received"] += 1
    return counts, seen


def _sequence(rng: np.random.Generator) -> list[int]:
    ids = list(range(N))
    for _ in range(2):  # shuffle a few stretches
        a = int(rng.integers(0, N - 8))
        ids[a : a + 8] = rng.permutation(ids[a : a + 8]).tolist()
    a = int(rng.integers(0, N - 16))  # and swap two runs: a run of new ids below the highest
    ids[a : a + 16] = ids[a + 8 : a + 16] + ids[a : a + 8]
    ids = [i for i in ids if rng.random() > 0.1]  # gaps
    for _ in range(5):  # duplicates, some right after the original, some much later
        k = int(rng.integers(0, len(ids)))
        ids.insert(int(rng.integers(k, len(ids) + 1)), ids[k])
    for bad in (N, N + 7, -1):
        ids.insert(int(rng.integers(0, len(ids) + 1)), bad)
    return ids


def _frames(ids: list[int]) -> np.ndarray:
    """4×4 uint16 frames whose pixels name their id (and whether they are a later copy)."""
    seen: set[int] = set()
    values = []
    for i in ids:
        values.append(i % LATER_COPY + (LATER_COPY if i in seen else 0))
        seen.add(i)
    return np.repeat(np.asarray(values, np.uint16), 16).reshape(-1, 4, 4)


@pytest.mark.parametrize("seed", range(6))
def test_block_bookkeeping_equals_a_per_frame_reference(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    config = load_toml(
        ACQUIRE_TOML,
        AcquireConfig,
        [
            f"output.directory={tmp_path}",
            f"scan.shape={list(SCAN)}",
            "output.shard_nav=[2, 4]",
            "output.chunk_nav=[1, 2]",
            "compress.kind=none",
            "status.enabled=false",
        ],
    )
    manager = SeriesManager(config)
    ids = _sequence(rng)
    frames = _frames(ids)
    events: list[object] = [SeriesStart(1, "v1", {}, None, N, None)]
    a = 0
    while a < len(ids):
        b = min(len(ids), a + int(rng.integers(1, 12)))
        events.append(FrameBlock(1, np.asarray(ids[a:b], np.int64), frames[a:b]))
        a = b
    events.append(SeriesEnd(1))
    manager.handle(events)  # type: ignore[arg-type]

    counts, seen = _reference(ids)
    got = manager.closed[0]["counts"]
    assert {k: got[k] for k in counts} == counts
    assert got["missing"] == N - len(seen)
    assert manager.closed[0]["timing"]["process_cpu_s"] > 0  # writing and sealing cost CPU
    ds = open_dataset(Path(manager.closed[0]["store"]))
    expected = np.zeros(N, bool)
    expected[sorted(seen)] = True
    np.testing.assert_array_equal(ds.frames_received.reshape(-1), expected)
    stored = np.asarray(ds.data_array[...]).reshape(N, 16)
    for i in seen:  # each received position holds the first copy of its frame
        assert (stored[i] == i % LATER_COPY).all(), f"frame {i}"
