#!/usr/bin/env bash
# moestream's engine and ik_llama.cpp on the same shapes, one after the other on the same quiet machine, 2 threads,
# BF16 weights (docs/BENCHMARKS.md, "Side by side with ik_llama.cpp"). Nothing here builds the peer: build its
# llama-bench and llama-batched-bench yourself from its public source and point IK_BIN at them.
#
# Usage: IK_BIN=DIR docs/bench/side-by-side.sh MODELS_DIR SHAPE[:K,K...] ...
#   MODELS_DIR/SHAPE            the model folder from `./moestream make-test-model` (docs/bench/engine.sh's flags)
#   MODELS_DIR/SHAPE-bf16.gguf  a GGUF of the same shape for the peer (random weights too); its top-k is changed in
#                               place with SETTOPK (a command taking FILE K) for each K and set back at the end.
#                               For a deepseek_v2 model, docs/bench/deepseek2_gguf.py writes it from the model's
#                               config.json ("gen"), and its "settopk" is the SETTOPK
#   MOESTREAM                   the launcher to time (default: this checkout's ./moestream)
#   ENGINES                     which to run (default "peer moestream")
#   KERNELS                     moestream's --kernels (default auto; "amx" BF16 activations on AMX tiles, as the peer
#                               multiplies; "avx512bf16" BF16 activations by AVX512_BF16 dot products, the peer's own
#                               instruction, for CPUs without AMX; "vector" gives the pure-Java figures)
#   PEER_DTYPE                  the peer's GGUF: MODELS_DIR/SHAPE-PEER_DTYPE.gguf (default bf16; q8_0 with WEIGHTS=int8)
#   WEIGHTS                     moestream's --weights (default checkpoint; int8 quantizes to Q8_0 at load)
#   WARMUP (default 512) untimed decode tokens before moestream's batch-1 run, for its steady state: the JIT is
#   still compiling after bench-decode's default 32 (tiny B=1 k=8, one after the other: 113.5 tok/s after none,
#   140.2 after 64, 144.5 after 128, 161.2 after 256, 169.8 after 512); the peer has no JIT to warm.
#   DROP_CACHES=1 (root only) empties the page cache before each shape: a file read fresh sits in 2 MiB folios that
#   both engines then map with 2 MiB pages, while a file just written by a tool sits in small ones (the peer's
#   dsv2cut batch 1: 15.5 tok/s from a just-written GGUF, 22.1 after a drop and a fresh read). Without it, read
#   the two engines' files the same way before comparing them.
#   Each engine's file is read again (cat) right before each of its commands: a VM that reclaims idle page cache
#   (this machine's kdamond pages out file pages unused for about a minute) would otherwise leave the first
#   engine's file on disk while the other runs, and the next command pays the reads (and small pages) in its
#   timed part.
#   Batch 16 and 64 run two workloads. llama-batched-bench feeds token id 0 at every position of every sequence,
#   so its sequences are identical and a step routes all of them to the same k experts per layer; moestream's
#   default batches hold different random prompts, which read up to B x k experts per layer (small k=8 at batch 16:
#   82.8 of 128). So moestream also runs --identical-sequences (every prompt token 0, greedy: identical
#   sequences; --max-batch-tokens 2048 prefills a batch in one step, as the peer's -b 2048 does, so they stay in
#   step), the like-for-like match of the peer's unmodified tool. PEER_DISTINCT: a llama-batched-bench you built
#   from a local edit that feeds distinct token ids (docs/BENCHMARKS.md says which), run with the same flags for
#   the like-for-like match of moestream's default batches.
#   TOKENS (default 64) decoded tokens per sequence at batch 16 and 64; 128 at batch 1. Prompts: 32 tokens, and
#   512-token prompts for prefill: the peer's llama-bench averages 3 after its warm-up run; moestream prints 4 runs,
#   the first of which warms the JIT (quote the median of the other 3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
models="$(cd "$1" && pwd)"; shift
cd "$models" # the peer writes its llama.log into the working directory
ms="${MOESTREAM:-$root/moestream}"
tokens="${TOKENS:-64}"
engines="${ENGINES:-peer moestream}"
kernels="${KERNELS:-auto}"
weights="${WEIGHTS:-checkpoint}"
peer_dtype="${PEER_DTYPE:-bf16}"
: "${IK_BIN:?set IK_BIN to the directory with ik_llama.cpp's llama-bench and llama-batched-bench}"
: "${SETTOPK:?set SETTOPK to a command that sets a GGUF's expert_used_count in place: SETTOPK FILE K}"

# The peer's batch 16 and 64 decode with a llama-batched-bench binary (its own, or PEER_DISTINCT's).
batched_bench() {
  cat "$gguf" > /dev/null
  "$1" -m "$gguf" -t 2 -c $((64 * (32 + tokens) + 64)) -b 2048 -ub 512 -npp 32 -ntg "$tokens" -npl 16,64 2>&1 \
    | grep -E '^\|'
}

for spec in "$@"; do
  shape="${spec%%:*}"
  ks="8,2"
  [[ "$spec" == *:* ]] && ks="${spec#*:}"
  gguf="$models/$shape-$peer_dtype.gguf"
  default_k="$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['num_experts_per_tok'])" "$models/$shape/config.json")"
  # Both engines' files into the page cache first, so neither pays the first read.
  if [[ "${DROP_CACHES:-0}" == 1 ]]; then
    sync
    echo 1 > /proc/sys/vm/drop_caches
  fi
  cat "$gguf" "$models/$shape"/*.safetensors > /dev/null
  for k in ${ks//,/ }; do
    echo "## $shape k=$k"
    $SETTOPK "$gguf" "$k" > /dev/null
    if [[ " $engines " == *" peer "* ]]; then
    echo "### ik_llama.cpp"
    cat "$gguf" > /dev/null
    "$IK_BIN/llama-bench" -m "$gguf" -t 2 -p 512 -n 128 -r 3 -o md 2>/dev/null
    batched_bench "$IK_BIN/llama-batched-bench"
    if [[ -n "${PEER_DISTINCT:-}" ]]; then
    echo "### ik_llama.cpp, distinct sequences"
    batched_bench "$PEER_DISTINCT"
    fi
    fi
    if [[ " $engines " == *" moestream "* ]]; then
    echo "### moestream ($ms, --kernels $kernels --weights $weights)"
    cat "$models/$shape"/*.safetensors > /dev/null
    "$ms" bench-decode --model "$models/$shape" --kernels "$kernels" --weights "$weights" --threads 2 --batch 1 --experts-per-token "$k" --max-new-tokens 128 \
      --prompt-tokens 32 --warmup-tokens "${WARMUP:-512}" --profile 2>&1 | grep -v WARNING
    cat "$models/$shape"/*.safetensors > /dev/null
    "$ms" bench-decode --model "$models/$shape" --kernels "$kernels" --weights "$weights" --threads 2 --batch 16,64 --experts-per-token "$k" \
      --max-new-tokens "$tokens" --prompt-tokens 32 --profile 2>&1 | grep -v WARNING
    echo "### moestream, identical sequences"
    cat "$models/$shape"/*.safetensors > /dev/null
    "$ms" bench-decode --model "$models/$shape" --kernels "$kernels" --weights "$weights" --threads 2 --batch 16,64 --experts-per-token "$k" \
      --max-new-tokens "$tokens" --prompt-tokens 32 --identical-sequences --max-batch-tokens 2048 2>&1 | grep -v WARNING
    cat "$models/$shape"/*.safetensors > /dev/null
    "$ms" bench-decode --model "$models/$shape" --kernels "$kernels" --weights "$weights" --threads 2 --batch 1,1,1,1 --experts-per-token "$k" --max-new-tokens 8 \
      --prompt-tokens 512 --warmup-tokens 8 --profile 2>&1 | grep -v WARNING
    fi
  done
  $SETTOPK "$gguf" "$default_k" > /dev/null
done
