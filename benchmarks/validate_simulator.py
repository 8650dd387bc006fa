"""ptyflow's simulator against the independent abTEM SrTiO3 dataset: a table of agreement.

Simulates every position of ``configs/simulate.toml`` (the reference's parameters) and
compares with ``../shared/data/srtio3``: wavelength and interaction constant, the vacuum
pattern, every diffraction pattern (Pearson r, max deviation relative to the peak), the
fraction of the beam on the detector, and the speed against abTEM's recorded time.

    python benchmarks/validate_simulator.py [--shared ../shared] [--positions 1024]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from ptyflow.config import load_toml, validate_config
from ptyflow.config.simulate import SimulateConfig
from ptyflow.physics import sigma_rad_per_VA, wavelength_A
from ptyflow.simulate import plan_simulation

REPO = Path(__file__).resolve().parents[1]


def _row(name: str, ours: str, reference: str, verdict: str) -> None:
    print(f"| {name} | {ours} | {reference} | {verdict} |")


def _vacuum(cfg: SimulateConfig) -> np.ndarray:
    """The noise-free vacuum pattern [electrons] with the reference's beam and detector."""
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "vacuum.npy"
        np.save(image, np.zeros((64, 64)))
        vacuum = {"kind": "phase_image", "path": str(image), "pixel_size_A": 0.5}
        plan = plan_simulation(
            validate_config(
                {**cfg.model_dump(), "specimen": vacuum, "scan": {"shape": [1, 1]}},
                SimulateConfig,
            )
        )
        return plan.simulator.intensities(plan.positions_A)[0] * plan.electrons_per_position


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--positions", type=int, default=1024, help="first N scan positions")
    args = parser.parse_args()
    data = args.shared / "data" / "srtio3"
    meta = json.loads((data / "metadata.json").read_text())

    cfg = load_toml(REPO / "configs" / "simulate.toml", SimulateConfig)
    plan = plan_simulation(cfg)
    n = min(args.positions, len(plan.positions_A))
    t0 = time.perf_counter()
    ours = np.concatenate(
        [plan.simulator.intensities(plan.positions_A[i : min(i + 32, n)]) for i in range(0, n, 32)]
    )
    seconds = time.perf_counter() - t0
    fraction = ours.sum(axis=(1, 2))
    ours = ours * plan.electrons_per_position
    ref = np.load(data / "dp_noisefree.npy", mmap_mode="r").reshape(-1, 64, 64)[:n]
    r = np.array([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(ours, ref, strict=True)])
    dev = np.abs(ours - ref).max(axis=(1, 2)) / ref.max(axis=(1, 2))
    ref_fraction = ref.sum(axis=(1, 2)) / meta["electrons_per_probe_position"]

    vac_ours, vac_ref = _vacuum(cfg), np.load(data / "vacuum_probe.npy")
    vac_dev = np.abs(vac_ours - vac_ref).max() / vac_ref.max()
    vac_r = np.corrcoef(vac_ours.ravel(), vac_ref.ravel())[0, 1]

    energy = meta["energy_eV"]
    print(f"\nptyflow simulate vs abTEM 1.0.6, SrTiO3 [001], {n} positions\n")
    print("| quantity | ptyflow | abTEM reference | agreement |")
    print("|---|---|---|---|")
    lam, sig = wavelength_A(energy), sigma_rad_per_VA(energy)
    _row(
        "wavelength [Å]",
        f"{lam:.10f}",
        f"{meta['wavelength_A']:.10f}",
        f"{abs(lam / meta['wavelength_A'] - 1):.1e} rel",
    )
    _row(
        "σ [rad/(V·Å)]",
        f"{sig:.10f}",
        f"{meta['sigma_rad_per_VA']:.10f}",
        f"{abs(sig / meta['sigma_rad_per_VA'] - 1):.1e} rel",
    )
    _row("pattern Pearson r", f"min {r.min():.5f}, median {np.median(r):.5f}", "1", "")
    _row(
        "pattern max abs deviation / peak",
        f"median {np.median(dev):.2%}, max {dev.max():.2%}",
        "0",
        "",
    )
    _row(
        "beam fraction on detector",
        f"{fraction.mean():.5f}",
        f"{ref_fraction.mean():.5f}",
        f"max abs deviation per position {np.abs(fraction - ref_fraction).max():.4f}",
    )
    _row(
        "vacuum pattern",
        f"sum {vac_ours.sum():.3f}",
        f"sum {vac_ref.sum():.3f}",
        f"r = 1 − {1 - vac_r:.1e}, max abs deviation / peak {vac_dev:.1e}",
    )
    per_pos = meta["timing_s"]["multislice"] / 1024
    _row(
        "seconds per position",
        f"{seconds / n * 1e3:.1f} ms",
        f"{per_pos * 1e3:.1f} ms",
        f"{per_pos / (seconds / n):.1f}× abTEM's speed (its run, not this machine's)",
    )


if __name__ == "__main__":
    main()
