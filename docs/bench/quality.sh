#!/usr/bin/env bash
# The quality / throughput table of docs/QUALITY.md for one trained model, every row in one run on one
# machine: accuracy per task (bench-quality, greedy, held-out items), perplexity/KL on held-out prose, and
# throughput at C=1 and C=16 (bench-load) for the same policies and pruning levels. Nothing else may run.
#
#   docs/bench/quality.sh tools/train/models/qwen3-moe-tasks /tmp/quality-qwen [ITEMS_PER_TASK]
#
# Writes OUT/quality.json, OUT/load-*.csv, OUT/profile.json, then OUT/table.md and OUT/pareto.png
# (docs/bench/quality_table.py). Needs /usr/bin/python3 with matplotlib for the last step only.
# STEPS (default "quality load table") runs part of it: the accuracy step may share the machine (its
# figures do not depend on time), the load step may not.
set -euo pipefail
STEPS=${STEPS:-quality load table}
has() { [[ " $STEPS " == *" $1 "* ]]; }
MODEL=${1:?model folder}
OUT=${2:?output folder}
ITEMS=${3:-1000}
THREADS=${THREADS:-2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MS="$ROOT/moestream"
mkdir -p "$OUT"

read -r K EXPERTS LAYERS < <(/usr/bin/python3 - "$MODEL/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print(c["num_experts_per_tok"], c.get("num_experts", c.get("n_routed_experts")), c["num_hidden_layers"])
PY
)
# fixed:k for every k; per-layer schedules that cut the first, the last or the middle layers; thresholds
# on the router's probabilities; the batch-aware rule; pruning to 3/4, 1/2 and 1/4 of the experts.
POLICIES="full"
for ((k = K - 1; k >= 1; k--)); do POLICIES+=",fixed:$k"; done
H=$K; L=$LAYERS
POLICIES+=",schedule:$((K / 2)),$H,$H,2,schedule:$H,$H,$((K / 2)),$((L - 1)),schedule:$((K / 4 > 0 ? K / 4 : 1)),$H,$H,2"
POLICIES+=",schedule:$((K / 2)),$((K / 2)),$H,$L"
POLICIES+=",threshold:1,0.05,threshold:1,0.1,threshold:1,0.2,threshold:2,0.3,threshold:2,0.5,batch:2,0.3"
PRUNE="$((EXPERTS * 3 / 4)),$((EXPERTS / 2)),$((EXPERTS / 4))"
echo "policies: $POLICIES; prune: $PRUNE" >&2

if has quality; then
# The pruning profile: training-distribution chat items (not the held-out ones) and held-out prose.
/usr/bin/python3 - "$ROOT/tools/train" "$MODEL/heldout/text.txt" "$OUT/calibration.txt" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import data, bpe
held = {p for t in data.TASKS for p, _ in data.heldout(t, 1000)}
stream = data.TaskStream(data.TRAIN_SEED + 2, held)
items = []
for _ in range(400):
    _, prompt, answer = stream.next()
    items.append(f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n{answer}<|im_end|>\n")
text = open(sys.argv[2]).read()
open(sys.argv[3], "w").write("".join(items) + "\n" + text[: len(text) // 2])
PY
"$MS" profile-experts --model "$MODEL" --input "$OUT/calibration.txt" --output "$OUT/profile.json" --threads "$THREADS"

"$MS" bench-quality --model "$MODEL" --policies "$POLICIES" --prune-experts "$PRUNE" --expert-profile "$OUT/profile.json" \
  --items-per-task "$ITEMS" --max-new-tokens 24 --batch 16 --threads "$THREADS" \
  --json "$OUT/quality.json" --markdown "$OUT/quality.md"
fi

if has load; then
LOAD="--concurrency 1,16 --prompt-tokens 64 --max-new-tokens 64 --threads $THREADS --repeat 3 --warmup-tokens 4096"
"$MS" bench-load --model "$MODEL" --policies "$POLICIES" $LOAD --csv "$OUT/load-policies.csv"
IFS=, read -ra NS <<< "$PRUNE"
for n in "${NS[@]}"; do
  "$MS" bench-load --model "$MODEL" --policies full --prune-experts "$n" --expert-profile "$OUT/profile.json" $LOAD \
    --csv "$OUT/load-prune-$n.csv"
done
fi
if has table; then
  /usr/bin/python3 "$ROOT/docs/bench/quality_table.py" "$OUT"
fi
