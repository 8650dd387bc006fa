#!/usr/bin/env bash
# The GPU check, run ONCE by the coordinator on a lent CUDA machine, from the repo root:
#     bash benchmarks/gpu_check.sh
# Uses the torch already there (installs torch==2.13.0 only if none), installs ptyflow,
# runs the CUDA tests and the GPU benchmark (128×128 scan of 64×64 patterns), and the
# srtio3 benchmark on CUDA when ../shared/data/srtio3 is present. About 5 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src"
t0=$SECONDS
if ! python -c 'import torch' 2>/dev/null; then
    pip install -q torch==2.13.0
fi
python -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "device", torch.cuda.get_device_name() if torch.cuda.is_available() else "NONE")'
# ptyflow and its dependencies; torch is already satisfied, so pip leaves it alone.
pip install -q -e . pytest pytest-timeout hypothesis 2>&1 | tail -2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
echo "== CUDA tests ($((SECONDS - t0)) s)"
python -m pytest -q -p no:cacheprovider tests/reconstruct/test_reconstruct_cuda.py tests/physics/test_physics_forward.py
echo "== GPU benchmark: 16,384 patterns of 64×64 ($((SECONDS - t0)) s)"
timeout 180 python benchmarks/reconstruct_speed.py --gpu-synthetic --device cuda --iterations 3
if [ -f ../shared/data/srtio3/metadata.json ] && python -c 'import skimage' 2>/dev/null; then
    echo "== srtio3 on CUDA ($((SECONDS - t0)) s)"
    timeout 150 python benchmarks/reconstruct_speed.py --device cuda --iterations 10
else
    echo "== srtio3 on CUDA: skipped (../shared/data/srtio3 or scikit-image absent)"
fi
echo "== done in $((SECONDS - t0)) s"
