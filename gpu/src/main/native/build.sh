#!/usr/bin/env bash
# Builds the native kernels (moestream_kernels.c: BF16 matmuls, attention loops; moestream_amx.c: AMX BF16
# matmuls, used only where the CPU has AMX; moestream_dpbf16.c: AVX512_BF16 dot-product BF16 matmuls, used only
# where the CPU has AVX512_BF16; moestream_activations.c: vectorized exp of kernels "amx") into the gpu jar's classes, where
# NativeKernels loads them from. Run by gpu/pom.xml's native-kernels profile where gcc is installed.
# Arguments: SOURCE_DIR JAVA_HOME OUTPUT_CLASSES_DIR
set -euo pipefail
src=$1 java_home=$2 classes=$3
include=$java_home/include
if [ ! -f "$include/jni.h" ]; then
  echo "native kernels: $include/jni.h not found (a JRE, not a JDK?): not built, the Java kernels will run" >&2
  exit 0
fi
out=$classes/io/moestream/engine/kernel/native/linux-x86_64
mkdir -p "$out"
# AVX-512F only (no -march=native): the library must run on any AVX-512 machine it is copied to; the AMX
# functions carry their own target attribute and run only after NativeKernels.amxInit checked the CPU.
# -ffp-contract=off: a scalar a * b + c stays two roundings, as in Java (fused only where the code says so).
flags=(-O3 -mavx512f -mfma -ffp-contract=off -fPIC -shared -Wall -Wextra -Werror -I"$include" -I"$include/linux")
if gcc "${flags[@]}" -o "$out/libmoestream_kernels.so" "$src/moestream_kernels.c" "$src/moestream_amx.c" \
    "$src/moestream_amx_q8.c" "$src/moestream_activations.c" "$src/moestream_dpbf16.c" -lm; then
  echo "native kernels: built $out/libmoestream_kernels.so"
else
  # AMX intrinsics need gcc 11 or later: an older gcc still builds the exact kernels (kernels amx and avx512bf16
  # then say why not)
  echo "native kernels: the AMX and AVX512_BF16 kernels did not compile (gcc 11 or later needed); building the others" >&2
  gcc "${flags[@]}" -o "$out/libmoestream_kernels.so" "$src/moestream_kernels.c"
  echo "native kernels: built $out/libmoestream_kernels.so without the AMX and AVX512_BF16 kernels"
fi
