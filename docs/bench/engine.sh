#!/usr/bin/env bash
# Reproduces the engine figures of docs/BENCHMARKS.md: makes the "tiny" and "small" qwen3_moe shapes
# (BF16, Qwen3 vocabulary) and runs bench-decode with 2 threads. Usage: docs/bench/engine.sh [MODELS_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
models="${1:-/tmp/moestream-bench-models}"
ms="$root/moestream"
mkdir -p "$models"

common=(--arch qwen3_moe --dtype bf16 --vocab-size 151936 --experts-per-token 8 --head-dim 64)
[ -f "$models/tiny/model.safetensors" ] || "$ms" make-test-model "${common[@]}" --output "$models/tiny" \
  --hidden-size 512 --num-layers 4 --num-heads 8 --num-kv-heads 2 --num-experts 64 --moe-intermediate-size 256
[ -f "$models/small/model.safetensors" ] || "$ms" make-test-model "${common[@]}" --output "$models/small" \
  --hidden-size 1024 --num-layers 8 --num-heads 16 --num-kv-heads 4 --num-experts 128 --moe-intermediate-size 512

echo "## tiny"
"$ms" bench-decode --model "$models/tiny" --batch 1,4,16 --experts-per-token 8,4,2 --max-new-tokens 128 --threads 2 \
  --csv "$models/tiny.csv" --profile
echo "## small"
"$ms" bench-decode --model "$models/small" --batch 1,4,16 --experts-per-token 8,4,2 --max-new-tokens 128 --threads 2 \
  --csv "$models/small.csv" --profile
