#!/usr/bin/env bash
# Compiles every kernel source in this folder to PTX for compute_80 into the committed resources
# folder, records the SHA-256 of the source next to it, and assembles the PTX for sm_80/86/89/90 as a
# check (the cubins go to the build folder and are not committed).
#
#   build-ptx.sh SRC_DIR PTX_DIR CHECK_DIR [force]
#
# A PTX file is regenerated only when its source's hash differs from the recorded one (or with
# "force"), so builds on machines with another nvcc leave the committed files alone.
#
# Why ".version 8.0": nvcc 13 writes PTX ISA 9.0, which drivers older than CUDA 13 refuse
# (CUDA_ERROR_UNSUPPORTED_PTX_VERSION). The kernels use nothing newer than ISA 8.0 (CUDA 12.0), so
# the header is lowered and ptxas, which rejects instructions the declared ISA lacks, checks it.
set -euo pipefail
SRC_DIR=$1
PTX_DIR=$2
CHECK_DIR=$3
FORCE=${4:-}
PTX_ISA=8.0
ARCHS="sm_80 sm_86 sm_89 sm_90"
NVCC=${NVCC:-nvcc}
mkdir -p "$PTX_DIR" "$CHECK_DIR"
for src in "$SRC_DIR"/*.cu; do
  name=$(basename "$src" .cu)
  ptx="$PTX_DIR/$name.ptx"
  hash=$(sha256sum "$src" | cut -d' ' -f1)
  if [[ "$FORCE" != "force" && -f "$ptx" && -f "$ptx.sha256" && "$(cat "$ptx.sha256")" == "$hash" ]]; then
    echo "ptx: $name.ptx is up to date"
  else
    echo "ptx: compiling $name.cu"
    "$NVCC" -ptx -arch=compute_80 -o "$CHECK_DIR/$name.ptx" "$src"
    # drop the compiler banner (build id, version) so the committed file only changes with the source
    sed -e "s/^\.version [0-9.]*$/.version $PTX_ISA/" -e '/^\/\/ Compiler Build ID/d' \
        -e '/^\/\/ Cuda compilation tools/d' -e '/^\/\/ Based on NVVM/d' "$CHECK_DIR/$name.ptx" > "$ptx"
    echo "$hash" > "$ptx.sha256"
  fi
  for arch in $ARCHS; do
    cubin="$CHECK_DIR/$name.$arch.cubin"
    if [[ ! "$cubin" -nt "$ptx" ]]; then  # assembled once per PTX change, not on every build
      ptxas -arch="$arch" -o "$cubin" "$ptx"
    fi
  done
done
echo "ptx: assembled for $ARCHS (cubins in $CHECK_DIR, not committed)"
