#!/usr/bin/env bash
# The checks of kernels_emulated.cpp on a real GPU: the kernels of src/main/cuda compiled by nvcc for
# the local device, every buffer in managed memory. From gpu/:  bash src/test/cuda/run-on-gpu.sh
# Add compute-sanitizer in front of the binary for memcheck/racecheck:
#   bash src/test/cuda/run-on-gpu.sh /tmp/kcheck && compute-sanitizer --tool racecheck /tmp/kcheck/kernels_gpu
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${1:-$(mktemp -d)}
mkdir -p "$WORK"
cp "$HERE/kernels_emulated.cpp" "$WORK/kernels_gpu.cu"
nvcc -std=c++17 -O2 -arch=native -DKERNELS_ON_GPU -I"$HERE" -I"$HERE/../../main/cuda" -o "$WORK/kernels_gpu" \
    "$WORK/kernels_gpu.cu"
"$WORK/kernels_gpu"
