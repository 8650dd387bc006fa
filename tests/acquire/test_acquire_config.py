"""configs/acquire.toml loads and documents every option of the acquire config."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptyflow.acquire._store_layout import store_layout
from ptyflow.config import load_toml
from ptyflow.config.acquire import AcquireConfig
from ptyflow.errors import ConfigError
from ptyflow.testing import undocumented_keys

ACQUIRE_TOML = Path(__file__).resolve().parents[2] / "configs" / "acquire.toml"


def test_template_loads_and_documents_every_key() -> None:
    cfg = load_toml(ACQUIRE_TOML, AcquireConfig)
    assert undocumented_keys(cfg, ACQUIRE_TOML.read_text()) == []


def test_overrides_and_units_in_errors() -> None:
    cfg = load_toml(ACQUIRE_TOML, AcquireConfig, ["receive.protocol=v2", "scan.n_time=4"])
    assert (cfg.receive.protocol, cfg.scan.n_time) == ("v2", 4)
    with pytest.raises(ConfigError, match=r"series_timeout_s.*greater than 0"):
        load_toml(ACQUIRE_TOML, AcquireConfig, ["receive.series_timeout_s=0"])
    with pytest.raises(ConfigError, match="did you mean 'series_timeout_s'"):
        load_toml(ACQUIRE_TOML, AcquireConfig, ["receive.series_timeout_ms=5"])


@pytest.mark.parametrize(
    ("bytes_per_frame", "shard", "chunk"),
    [
        (96 * 96 * 2, (16, 16), (4, 4)),  # raw 96×96 uint16: 4.7 MB already
        (24 * 24 * 4, (16, 128), (4, 32)),  # bin4 to uint32
        (32 * 8, (16, 1024), (4, 256)),  # 32 float64 signals: capped at 1024 columns
        (512 * 512 * 2, (16, 16), (4, 4)),  # a large raw frame never goes below 16
    ],
)
def test_auto_store_layout_fills_shards_to_a_few_MiB(
    bytes_per_frame: int, shard: tuple[int, int], chunk: tuple[int, int]
) -> None:
    cfg = load_toml(ACQUIRE_TOML, AcquireConfig)
    assert store_layout(cfg, bytes_per_frame) == (shard, chunk)
    if shard[1] < 1024:  # below the cap the shard holds ~4 MiB, and half of it would not
        assert shard[0] * shard[1] * bytes_per_frame >= 4 * 2**20
        assert shard[1] == 16 or shard[0] * shard[1] // 2 * bytes_per_frame < 4 * 2**20


def test_explicit_store_layout_wins_and_auto_chunks_divide_it() -> None:
    cfg = load_toml(ACQUIRE_TOML, AcquireConfig, ["output.shard_nav=[8, 6]"])
    assert store_layout(cfg, 100) == ((8, 6), (2, 6))  # 6 has no quarter: whole
    cfg = load_toml(ACQUIRE_TOML, AcquireConfig, ["output.chunk_nav=[2, 2]"])
    assert store_layout(cfg, 100) == ((16, 1024), (2, 2))
    with pytest.raises(ConfigError, match="shard_nav"):
        load_toml(ACQUIRE_TOML, AcquireConfig, ["output.shard_nav=big"])
