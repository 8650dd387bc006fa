"""Reconstruction speed and accuracy: s/iteration, patterns/s, user and system CPU time,
and the time to reach r = 0.93 (single-slice) / 0.99 (multislice) on ../shared/data/srtio3.

Baseline measured in the same run: a bare torch autodiff loop (gather patches, multiply by a
fixed probe, FFT, amplitude loss, backward, Adam) on the same frames and batch size. The
py4DSTEM and PtyRAD columns are the reference numbers of ../shared/DESIGN.md (this CPU
kind, and an H200).

    python benchmarks/reconstruct_speed.py                      # CPU, srtio3
    python benchmarks/reconstruct_speed.py --device cuda        # the same on a GPU
    python benchmarks/reconstruct_speed.py --gpu-synthetic      # 128×128 scan of 64×64, timing only
    python benchmarks/reconstruct_speed.py --allocator          # simulator: glibc default vs tuned

Runs with OMP_WAIT_POLICY=PASSIVE unless it is set (see main).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from ptyflow.config import apply_overrides, validate_config
from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.reconstruct import open_result, run_reconstruction
from ptyflow.reconstruct._model import PtychoModel
from ptyflow.testing import make_metadata, reference_store, score_phase

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared"
#: ../shared/DESIGN.md, s/iter on this 2-core CPU kind (r) and on an H200.
PY4DSTEM_CPU = {"single-slice": (0.51, 0.937), "6 slices": (2.48, 0.995)}
PTYRAD_CPU = {"single-slice": (0.23, 0.915), "6 slices": (0.86, 0.990)}
PTYRAD_H200 = {"single-slice, batch 1024": 0.18, "6 slices + 3 modes, batch 1024": 0.46}
#: name: (overrides, r target, (slices, modes) of its bare loop)
RUNS = {
    "single-slice": ([], 0.93, (1, 1)),
    "3 probe modes": (["model.n_probe_modes=3"], 0.93, (1, 3)),
    "6 slices": (
        ["model.n_slices=6", "model.slice_thickness_A=3.905", "regularize.kz_filter_weight=0.1"],
        0.99,
        (6, 1),
    ),
}


def _cpu_times() -> tuple[float, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def _load() -> str:
    """The 1-minute load average: the machine is shared, so wall times are upper bounds."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def bare_loop(
    frames: torch.Tensor, n_iter: int, batch: int, window: int, slices: int = 1, modes: int = 1
) -> tuple[float, float]:
    """Wall and CPU (user + system, all threads) s/iteration of the plainest autodiff loop on
    ``frames`` (n, N, N) with the same slices and modes (a fixed probe, no sub-pixel shift,
    no probe or position refinement): medians over the iterations after the first."""
    n, device = len(frames), frames.device
    side = int(np.ceil(np.sqrt(n))) + window + 2
    obj = torch.ones((slices, side, side), dtype=torch.complex64, device=device)
    obj.requires_grad_()
    probe = torch.randn((modes, window, window), dtype=torch.complex64, device=device)
    propagator = torch.exp(1j * torch.rand((window, window), device=device))
    opt = torch.optim.Adam([obj], lr=0.01)
    grid = np.arange(n)
    starts = torch.from_numpy(np.stack([grid // int(np.sqrt(n)), grid % int(np.sqrt(n))], 1)).to(
        device
    )
    amplitude = frames.sqrt()
    offsets = torch.arange(window, device=device)
    times, cpu = [], []
    for _ in range(n_iter):
        t0, c0 = time.perf_counter(), sum(_cpu_times())
        for s in range(0, n, batch):
            st = starts[s : s + batch]
            flat = (
                (st[:, 0, None, None] + offsets[None, :, None]) * side
                + st[:, 1, None, None]
                + offsets
            ).reshape(-1)
            wave = probe
            for k in range(slices):
                patch = obj[k].reshape(-1).index_select(0, flat).reshape(-1, 1, window, window)
                far = torch.fft.fft2(wave * patch, norm="ortho")
                if k < slices - 1:
                    wave = torch.fft.ifft2(far * propagator, norm="ortho")
            loss = (far.abs().square().sum(1).sqrt() - amplitude[s : s + batch]).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        cpu.append(sum(_cpu_times()) - c0)
    skip = 1 if n_iter > 1 else 0
    return float(np.median(times[skip:])), float(np.median(cpu[skip:]))


def reference(device: str, iterations: int, threads: int) -> None:
    data = SHARED / "data" / "srtio3"
    score = SHARED / "tools" / "score.py"
    tmp = Path(tempfile.mkdtemp(prefix="ptyflow-bench-"))
    meta = reference_store(data, tmp / "sto.zarr", "noisy")
    centre = meta["scan_center_gt_A"]
    if threads:
        torch.set_num_threads(threads)  # the bare loop runs with the engine's thread count
    frames = torch.from_numpy(np.load(data / "dp_noisy.npy").reshape(-1, 64, 64)).to(device)
    table = _table(
        f"srtio3 32×32 scan, 64×64 patterns, {iterations} iterations, {device}, "
        f"{torch.get_num_threads()} threads; {_load()} at the start",
        [
            "run",
            "s/iter",
            "CPU s/iter",
            "patterns/s",
            "user s",
            "sys s",
            "final r",
            "r target: iterations, time",
            "bare loop s/iter (wall, CPU)",
            "÷ bare loop (wall, CPU)",
            "py4DSTEM s/iter (r)",
            "PtyRAD s/iter (r)",
        ],
    )
    for name, (extra, target, (slices, modes)) in RUNS.items():
        base_wall, base_cpu = bare_loop(frames, 4, 64, 64, slices, modes)
        sets = [
            f"optimizer.iterations={iterations}",
            f"engine.device={device!r}",
            f"engine.threads={threads}",
            f"engine.deterministic={str(device == 'cpu').lower()}",
            *extra,
        ]
        cfg = validate_config(apply_overrides({}, sets), ReconstructConfig)
        snapshots: list[np.ndarray] = []
        marks: list[tuple[float, float]] = []  # (user, sys) CPU seconds after each iteration

        def keep(
            _i: int,
            model: PtychoModel,
            snapshots: list[np.ndarray] = snapshots,
            marks: list[tuple[float, float]] = marks,
        ) -> None:
            marks.append(_cpu_times())
            snapshots.append(torch.angle(model.transmission()).sum(0).cpu().numpy())

        run = run_reconstruction(
            tmp / "sto.zarr", cfg, tmp / f"{name}.zarr", progress=False, on_iteration=keep
        )
        res = open_result(tmp / f"{name}.zarr")
        where = (res.pixel_size_A, res.origin_A, res.positions_A, data, score, centre)
        rs = [score_phase(phase, *where)["pearson_r"] for phase in snapshots]
        reached = next((i for i, r in enumerate(rs) if r >= target), None)
        # Iteration 0 also pays the setup (imports, probe power): CPU from iteration 1 on.
        user, system = (np.diff([m[k] for m in marks]) for k in (0, 1))
        s_iter = float(np.median(run.seconds_per_iteration))
        cpu_iter = float(np.median(user + system))
        to_r = (
            f"{target}: {reached + 1} it, {sum(run.seconds_per_iteration[: reached + 1]):.2f} s"
            if reached is not None
            else f"{target}: not reached"
        )
        key = "single-slice" if name == "3 probe modes" else name
        p4, pr = PY4DSTEM_CPU[key], PTYRAD_CPU[key]
        table.add_row(
            name,
            f"{s_iter:.3f}",
            f"{cpu_iter:.3f}",
            f"{1024 / s_iter:.0f}",
            f"{user.sum():.1f}",
            f"{system.sum():.2f}",
            f"{rs[-1]:.4f}",
            to_r,
            f"{base_wall:.3f}, {base_cpu:.3f}",
            f"{s_iter / base_wall:.2f}, {cpu_iter / base_cpu:.2f}",
            f"{p4[0]} ({p4[1]})",
            f"{pr[0]} ({pr[1]})",
        )
    Console(width=240).print(table)
    print(f"user/sys s: over iterations 1…{iterations - 1}; {_load()} at the end")


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c, justify="left" if c in ("run", "allocator") else "right")
    return table


def gpu_synthetic(device: str, iterations: int) -> None:
    """A 128×128 scan of 64×64 random patterns: timing only."""
    from ptyflow.dataset import create_dataset

    tmp = Path(tempfile.mkdtemp(prefix="ptyflow-gpu-"))
    meta = make_metadata((128, 128), (64, 64), pixel_size_inv_A=0.0768245838668374, bit_depth=32)
    rng = np.random.default_rng(0)
    with create_dataset(tmp / "syn.zarr", meta, dtype=np.float32) as w:
        for row in range(128):
            w.write_frames(row * 128, rng.poisson(4.0, size=(128, 64, 64)).astype(np.float32))
    frames = torch.from_numpy(rng.poisson(4.0, size=(16384, 64, 64)).astype(np.float32)).to(device)
    base, _ = bare_loop(frames, iterations, 1024, 64)
    name = torch.cuda.get_device_name() if device.startswith("cuda") else device
    table = _table(
        f"{name}: 16,384 patterns of 64×64, batch 1024",
        ["run", "s/iter", "patterns/s", "÷ bare loop", "PtyRAD H200 s/iter", "× PtyRAD speed"],
    )
    table.add_row("bare torch loop (baseline)", f"{base:.3f}", f"{16384 / base:.0f}", "1.0", "", "")
    for label, extra in (
        ("single-slice, batch 1024", []),
        (
            "6 slices + 3 modes, batch 1024",
            ["model.n_slices=6", "model.slice_thickness_A=3.905", "model.n_probe_modes=3"],
        ),
    ):
        sets = [
            f"optimizer.iterations={iterations + 1}",
            "optimizer.batch_size=1024",
            f"engine.device={device!r}",
            "engine.deterministic=false",
            *extra,
        ]
        cfg = validate_config(apply_overrides({}, sets), ReconstructConfig)
        run = run_reconstruction(
            tmp / "syn.zarr", cfg, tmp / "out.zarr", overwrite=True, progress=False
        )
        s_iter = float(np.median(run.seconds_per_iteration[1:]))
        ref = PTYRAD_H200[label]
        table.add_row(
            label,
            f"{s_iter:.3f}",
            f"{16384 / s_iter:.0f}",
            f"{s_iter / base:.1f}",
            f"{ref:.2f}",
            f"{ref / s_iter:.1f}",
        )
    Console(width=240).print(table)


def allocator() -> None:
    """The simulator on configs/simulate.toml (a 12×12 scan), glibc default vs tuned."""
    table = _table(
        "simulator, configs/simulate.toml with a 12×12 scan (child process CPU time)",
        ["allocator", "wall s", "user s", "sys s"],
    )
    for label, env in (("glibc default", {"PTYFLOW_ALLOCATOR": "default"}), ("ptyflow-tuned", {})):
        with tempfile.TemporaryDirectory() as tmp:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            cmd = [
                sys.executable,
                "-m",
                "ptyflow",
                "-q",
                "simulate",
                str(ROOT / "configs" / "simulate.toml"),
                "--out",
                f"{tmp}/s.zarr",
                "--no-progress",
                "--set",
                "scan.shape=[12,12]",
            ]
            subprocess.run(cmd, check=True, env={**os.environ, **env})
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        table.add_row(
            label,
            f"{wall:.1f}",
            f"{after.ru_utime - before.ru_utime:.1f}",
            f"{after.ru_stime - before.ru_stime:.1f}",
        )
    Console(width=240).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads (default 1, as the engine's; 0: all)"
    )
    parser.add_argument(
        "--gpu-synthetic", action="store_true", help="only the 128×128 synthetic timing"
    )
    parser.add_argument(
        "--allocator", action="store_true", help="only the simulator allocator comparison"
    )
    args = parser.parse_args()
    if "OMP_WAIT_POLICY" not in os.environ:
        # OpenMP reads this when torch loads: rerun with idle threads sleeping, not
        # spinning. On a shared 2-core machine (load 5) spinning made 2-thread runs 8× slower.
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    if args.allocator:
        allocator()
    elif args.gpu_synthetic:
        gpu_synthetic(args.device, min(args.iterations, 5))
    else:
        reference(args.device, args.iterations, args.threads)


if __name__ == "__main__":
    main()
