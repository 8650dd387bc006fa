#!/usr/bin/env bash
# The GPU check, run ONCE by the coordinator on a lent CUDA machine, from the repo root:
#     bash benchmarks/gpu_check.sh
# Installs nothing (the GPU machine has no network): torch, pytest and ptyflow's dependencies
# must already be importable; ptyflow itself comes from this tree via PYTHONPATH. Runs the
# CUDA tests and the GPU benchmark (128×128 scan of 64×64 patterns), and the
# srtio3 benchmark on CUDA when ../shared/data/srtio3 is present. About 3 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src"
t0=$SECONDS
# What the checks import (numba for the CPU kernels the fused path compiles even when the
# device is CUDA, matplotlib for the result's figures): a missing one is named up front.
python -c 'import torch, pytest, matplotlib, ptyflow.reconstruct._engine, ptyflow.simulate' || {
    echo "gpu_check: torch, pytest, matplotlib and ptyflow's dependencies (numba, zarr,"
    echo "pydantic, rich, scipy, tifffile, ...) must be importable (no pip here)"
    exit 2
}
python -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "device", torch.cuda.get_device_name() if torch.cuda.is_available() else "NONE")'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
echo "== CUDA tests ($((SECONDS - t0)) s)"
python -m pytest -q -p no:cacheprovider tests/reconstruct/test_reconstruct_cuda.py \
    tests/reconstruct/test_reconstruct_fused.py tests/physics/test_physics_forward.py
echo "== GPU benchmark: 16,384 patterns of 64×64 ($((SECONDS - t0)) s)"
timeout 180 python benchmarks/reconstruct_speed.py --gpu-synthetic --device cuda --iterations 3
if [ -f ../shared/data/srtio3/metadata.json ] && python -c 'import skimage' 2>/dev/null; then
    echo "== srtio3 on CUDA ($((SECONDS - t0)) s)"
    timeout 150 python benchmarks/reconstruct_speed.py --device cuda --iterations 10
else
    echo "== srtio3 on CUDA: skipped (../shared/data/srtio3 or scikit-image absent)"
fi
echo "== done in $((SECONDS - t0)) s"
