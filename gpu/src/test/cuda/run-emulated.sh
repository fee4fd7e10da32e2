#!/usr/bin/env bash
# Checks every kernel of src/main/cuda against a plain reference under a CPU emulation of CUDA
# (cuda_emu.h), for machines without a GPU. Needs g++ 12+ (C++20). From gpu/:
#   bash src/test/cuda/run-emulated.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC="$HERE/../../main/cuda"
WORK=${1:-$(mktemp -d)}
mkdir -p "$WORK"
for f in elementwise attention moe moe_align; do
  # dynamic shared memory becomes the emulator's buffer
  sed -E 's/extern __shared__ float ([a-zA-Z_]+)\[\];/float* \1 = reinterpret_cast<float*>(emu_dynamic_shared);/' \
      "$SRC/$f.cu" > "$WORK/$f.emu.cu"
done
g++ -std=c++20 -O1 -pthread -I"$HERE" -I"$WORK" -o "$WORK/kernels_emulated" "$HERE/kernels_emulated.cpp"
"$WORK/kernels_emulated"
