"""run_simulation: the store, its ground truth, provenance, noise, and errors that name keys."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from ptyflow.config import load_toml, validate_config
from ptyflow.config.simulate import SimulateConfig
from ptyflow.dataset import DatasetState, open_dataset, validate_dataset
from ptyflow.errors import ConfigError, DatasetError, PhysicsError
from ptyflow.provenance import content_hash, manifest_problems, read_record, verify_artifact
from ptyflow.simulate import (
    TRUTH_NAME,
    FrameSimulator,
    plan_simulation,
    run_simulation,
    truth_path,
)
from ptyflow.testing import undocumented_keys

MakeConfig = Callable[..., SimulateConfig]


def read_all(store: Path) -> np.ndarray:
    ds = open_dataset(store)
    return np.asarray(ds.data_array[...])


def test_store_truth_and_provenance(make_config: MakeConfig, tmp_path: Path) -> None:
    cfg = make_config()
    result = run_simulation(cfg, tmp_path / "sample.zarr", progress=False)
    assert result.truth == tmp_path / "sample.truth" == truth_path(result.store)
    assert validate_dataset(result.store) == []
    ds = open_dataset(result.store)
    assert ds.state is DatasetState.COMPLETE
    assert ds.nav_shape == (4, 4) and ds.frame_shape == (32, 32) and ds.dtype == np.uint32
    meta = ds.metadata.acquisition
    assert meta.detector.center_px == (16, 16) and meta.beam.aberrations == cfg.beam.aberrations
    assert 0.9 < result.beam_fraction <= 1.0 and result.seconds > 0

    truth = json.loads((result.truth / TRUTH_NAME).read_text())
    phase = np.load(result.truth / "object_phase.npy")
    probe = np.load(result.truth / "probe.npy")
    positions = np.load(result.truth / "scan_positions_A.npy")
    assert phase.shape == tuple(truth["object_phase.npy"]["shape"]) and phase.shape[0] == 4
    assert phase.mean() > 0.01  # positive at atom columns, and on average (mean inner potential)
    assert np.sum(np.abs(probe) ** 2) == pytest.approx(1.0, rel=1e-5)
    assert positions.shape == (16, 2)
    # Every probe window lies inside the object array.
    half = probe.shape[0] / 2 * truth["object_phase.npy"]["pixel_size_A"]
    extent = np.array(phase.shape[1:]) * truth["object_phase.npy"]["pixel_size_A"]
    assert (positions - half > 0).all() and (positions + half < extent).all()

    assert verify_artifact(result.store).ok and verify_artifact(result.truth).ok
    store_record = read_record(result.store)
    assert read_record(result.truth).inputs[0].record_id == store_record.record_id
    assert store_record.activity == "simulate" and store_record.config is not None


def test_noise_free_counts_are_dose_times_fraction(make_config: MakeConfig, tmp_path: Path) -> None:
    cfg = make_config(dose={"poisson_noise": False, "dose_e_per_A2": 2e4})
    result = run_simulation(cfg, tmp_path / "clean.zarr", progress=False)
    data = read_all(result.store)
    assert data.dtype == np.float32
    electrons = 2e4 * 0.5 * 0.5
    np.testing.assert_allclose(
        data.sum(axis=(2, 3)).mean(), electrons * result.beam_fraction, rtol=1e-5
    )
    plan = plan_simulation(cfg)
    direct = plan.simulator.intensities(plan.positions_A[5:6])[0] * electrons
    np.testing.assert_allclose(data[1, 1], direct, rtol=1e-4, atol=1e-3)


def test_poisson_noise_is_seeded_and_batch_independent(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    a = read_all(run_simulation(make_config(), tmp_path / "a.zarr", progress=False).store)
    b = read_all(
        run_simulation(
            make_config(numerics={"batch_size": 3}), tmp_path / "b.zarr", progress=False
        ).store
    )
    c = read_all(
        run_simulation(make_config(dose={"seed": 7}), tmp_path / "c.zarr", progress=False).store
    )
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert abs(a.sum() / c.sum() - 1) < 0.01


def test_blocks_are_scan_rows(make_config: MakeConfig) -> None:
    plan = plan_simulation(make_config(scan={"shape": [3, 5]}))
    blocks = list(
        plan.simulator.blocks(plan.positions_A, (3, 5), 100.0, poisson_seed=1, batch_size=2)
    )
    assert [b.start_index for b in blocks] == [0, 5, 10]
    assert all(b.frames.shape == (5, 32, 32) and b.frames.dtype == np.uint32 for b in blocks)


def test_existing_outputs_need_overwrite(make_config: MakeConfig, tmp_path: Path) -> None:
    cfg = make_config(scan={"shape": [2, 2]})
    store = tmp_path / "s.zarr"
    run_simulation(cfg, store, progress=False)
    with pytest.raises(DatasetError, match="overwrite"):
        run_simulation(cfg, store, progress=False)
    assert run_simulation(cfg, store, overwrite=True, progress=False).store == store
    (tmp_path / "x.truth").mkdir()
    with pytest.raises(DatasetError, match="not a ptyflow ground truth"):
        run_simulation(cfg, tmp_path / "x.zarr", overwrite=True, progress=False)


def test_refused_store_keeps_the_old_ground_truth(make_config: MakeConfig, tmp_path: Path) -> None:
    cfg = make_config(scan={"shape": [2, 2]})
    truth = run_simulation(cfg, tmp_path / "s.zarr", progress=False).truth
    before = (truth / "object_phase.npy").read_bytes()
    shutil.rmtree(tmp_path / "s.zarr")
    (tmp_path / "s.zarr").mkdir()
    (tmp_path / "s.zarr" / "notes.txt").write_text("someone else's directory")
    with pytest.raises(DatasetError):
        run_simulation(cfg, tmp_path / "s.zarr", overwrite=True, progress=False)
    assert (truth / "object_phase.npy").read_bytes() == before
    assert (tmp_path / "s.zarr" / "notes.txt").exists()


def test_repo_config_documents_every_key(simulate_toml: Path) -> None:
    text = simulate_toml.read_text()
    assert undocumented_keys(load_toml(simulate_toml, SimulateConfig), text) == []
    for key in ("path", "pixel_size_A"):  # the phase-image specimen, documented in comments
        assert f"# {key} =" in text


@pytest.mark.parametrize(
    ("sections", "error", "message"),
    [
        ({"dose": {"dose_e_per_A2": -1.0}}, ConfigError, r"dose_e_per_A2.*greater than 0"),
        ({"scan": {"step_A": [0.0, 0.4]}}, ConfigError, r"step_A.*greater than 0"),
        (
            {
                "specimen": {
                    "defects": [
                        {"kind": "substitution", "site": "Sr", "cell": [0, 0], "element": "Xx"}
                    ]
                }
            },
            ConfigError,
            r"element.*unknown element 'Xx'",
        ),
        (
            {"specimen": {"defects": [{"kind": "vacancy", "site": "Zz", "cell": [0, 0]}]}},
            ConfigError,
            r"site 'Zz' is not a site of SrTiO3_001",
        ),
        ({"specimen": {"crystal": "NaCl"}}, ConfigError, r"crystal.*unknown crystal 'NaCl'"),
        ({"numerics": {"oversampling": 2}}, ConfigError, r"oversampling.*odd"),
    ],
)
def test_bad_config_names_the_key(
    make_config: MakeConfig, sections: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        make_config(**sections)


def test_bad_physics_names_the_key(make_config: MakeConfig, tmp_path: Path) -> None:
    too_coarse = make_config(detector={"pixel_size_inv_A": 0.8})  # 1.25 Å window
    with pytest.raises(PhysicsError, match=r"detector\.pixel_size_inv_A"):
        run_simulation(too_coarse, tmp_path / "a.zarr", progress=False)
    assert not (tmp_path / "a.zarr").exists()


def test_bad_phase_image_names_the_key(
    make_config: MakeConfig, phase_image: Callable[[np.ndarray], Path], tmp_path: Path
) -> None:
    def image(path: Path) -> SimulateConfig:
        return make_config(
            {"specimen": {"kind": "phase_image", "path": str(path), "pixel_size_A": 0.1}}
        )

    with pytest.raises(ConfigError, match=r"\[specimen\]\.path.*not found"):
        plan_simulation(image(tmp_path / "missing.npy"))
    with pytest.raises(ConfigError, match=r"\[specimen\]\.path.*2D"):
        plan_simulation(image(phase_image(np.zeros((4, 4, 4)), "cube.npy")))


def test_failed_overwrite_keeps_the_old_store_and_truth(
    make_config: MakeConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = make_config(scan={"shape": [2, 2]})
    first = run_simulation(cfg, tmp_path / "s.zarr", progress=False)

    def broken_blocks(*args: object, **kwargs: object) -> Iterator[object]:
        raise RuntimeError("simulator crashed")
        yield  # a generator, like the real one

    monkeypatch.setattr(FrameSimulator, "blocks", broken_blocks)
    with pytest.raises(RuntimeError, match="simulator crashed"):
        run_simulation(cfg, tmp_path / "s.zarr", overwrite=True, progress=False)
    # The new store was never sealed: the old store and its truth stand, untouched.
    assert open_dataset(first.store).state.value == "complete"
    assert validate_dataset(first.store, verify_checksums=True) == []
    assert verify_artifact(first.truth).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.truth", "s.zarr"]


def test_crash_while_writing_truth_leaves_nothing_half_written(
    make_config: MakeConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("ptyflow.simulate._run._write_truth_files", broken)
    with pytest.raises(DatasetError, match=r"s.truth: cannot write the ground truth: disk full"):
        run_simulation(make_config(scan={"shape": [2, 2]}), tmp_path / "s.zarr", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zarr"]


def test_position_errors_move_the_probe_not_the_metadata(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    exact = make_config(dose={"poisson_noise": False})
    jittered = make_config(
        dose={"poisson_noise": False}, scan={"shape": [4, 4], "jitter_A": 0.3, "jitter_seed": 7}
    )
    a = run_simulation(exact, tmp_path / "exact.zarr", progress=False)
    b = run_simulation(jittered, tmp_path / "jitter.zarr", progress=False)
    # The store describes the same nominal raster either way.
    assert (
        open_dataset(b.store).metadata.acquisition.scan
        == open_dataset(a.store).metadata.acquisition.scan
    )
    plan = plan_simulation(jittered)
    np.testing.assert_allclose(plan.nominal_positions_A, plan_simulation(exact).positions_A)
    errors = plan.positions_A - plan.nominal_positions_A
    assert 0.15 < errors.std() < 0.45 and abs(errors.mean()) < 0.15  # σ = 0.3 Å, 32 draws
    # The truth keeps both, in the object array's frame.
    saved = np.load(b.truth / "scan_positions_A.npy") - np.load(
        b.truth / "scan_positions_nominal_A.npy"
    )
    np.testing.assert_allclose(saved, errors, atol=1e-12)
    # The frames are those of the true positions: a probe sees the specimen where it is.
    expected = plan.simulator.intensities(plan.positions_A) * plan.electrons_per_position
    np.testing.assert_allclose(
        read_all(b.store).reshape(expected.shape), expected, rtol=1e-5, atol=1e-3
    )
    assert not np.allclose(read_all(b.store), read_all(a.store), rtol=1e-3)


def test_partial_beam_section_keeps_the_other_defaults() -> None:
    default = SimulateConfig().beam
    only_angle = validate_config({"beam": {"semiangle_mrad": 25.0}}, SimulateConfig).beam
    assert only_angle.semiangle_mrad == 25.0
    assert (only_angle.energy_eV, only_angle.aberrations) == (
        default.energy_eV,
        default.aberrations,
    )
    # A given [beam.aberrations] is the whole set: unlisted coefficients are zero.
    cs_only = validate_config({"beam": {"aberrations": {"C30_A": 1e4}}}, SimulateConfig).beam
    assert cs_only.aberrations.C30_A == 1e4 and cs_only.aberrations.C10_A == 0.0


def test_ground_truth_is_sealed_like_a_store(make_config: MakeConfig, tmp_path: Path) -> None:
    result = run_simulation(
        make_config(scan={"shape": [2, 2]}), tmp_path / "s.zarr", progress=False
    )
    for artifact in (result.store, result.truth):
        manifest = json.loads((artifact / "manifest.json").read_text())
        assert manifest_problems(artifact, manifest) == []
        assert read_record(artifact).outputs[0].content_hash == content_hash(artifact)
    assert "truth.json" in json.loads((result.truth / "manifest.json").read_text())
