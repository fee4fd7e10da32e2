#!/usr/bin/env bash
# Reproduces the "Pipeline cost" figures of docs/BENCHMARKS.md: bench-pipeline (the same requests through the
# engine alone, then through Kafka + Flink) on the demo model and the tiny and small shapes with the Qwen3
# tokenizer, the broker in the benchmark's process and then in a process of its own (local-kafka).
# Usage: docs/bench/pipeline.sh [MODELS_DIR] [OUT_DIR]. Run it on a quiet machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
models="${1:-/tmp/moestream-bench-models}"
out="${2:-$models/pipeline}"
ms="$root/moestream"
bundled="$root/gpu/src/main/resources/io/moestream/engine/tokenizer/qwen3"
tok="$models/qwen3-tokenizer"  # the bundled Qwen3 tokenizer, tokenizer.json stored gzipped there
mkdir -p "$models" "$out" "$tok"
cp "$bundled/tokenizer_config.json" "$bundled/LICENSE" "$tok/"
gunzip -c "$bundled/tokenizer.json.gz" > "$tok/tokenizer.json"

common=(--arch qwen3_moe --dtype bf16 --vocab-size 151936 --experts-per-token 8 --head-dim 64 --tokenizer "$tok")
[ -f "$models/demo-tok/model.safetensors" ] || "$ms" make-test-model --arch qwen3_moe --tokenizer "$tok" --output "$models/demo-tok"
[ -f "$models/tiny-tok/model.safetensors" ] || "$ms" make-test-model "${common[@]}" --output "$models/tiny-tok" \
  --hidden-size 512 --num-layers 4 --num-heads 8 --num-kv-heads 2 --num-experts 64 --moe-intermediate-size 256
[ -f "$models/small-tok/model.safetensors" ] || "$ms" make-test-model "${common[@]}" --output "$models/small-tok" \
  --hidden-size 1024 --num-layers 8 --num-heads 16 --num-kv-heads 4 --num-experts 128 --moe-intermediate-size 512

run() { # model requests broker-args...
  local model="$1" requests="$2"; shift 2
  "$ms" bench-pipeline --model "$models/$model" --requests "$requests" --max-new-tokens 32 --max-in-flight 16 \
    --max-batch-size 16 --threads 2 "$@"
}

for m in demo-tok:96 tiny-tok:96 small-tok:48; do
  run "${m%%:*}" "${m##*:}" --markdown "$out/${m%%:*}-in-process.md"
done

"$ms" local-kafka > "$out/local-kafka.out" 2> "$out/local-kafka.log" &
broker=$!
trap 'kill $broker 2>/dev/null || true' EXIT
for _ in $(seq 60); do grep -q bootstrap.servers= "$out/local-kafka.out" && break; sleep 1; done
bootstrap="$(sed -n 's/^bootstrap.servers=//p' "$out/local-kafka.out")"
for m in demo-tok:96 tiny-tok:96 small-tok:48; do
  run "${m%%:*}" "${m##*:}" --bootstrap-servers "$bootstrap" --markdown "$out/${m%%:*}-own-process.md"
done
