"""Held-out files, the training tool's own evaluation, and the model card."""
import json
import os

import torch
import torch.nn.functional as F



def write_eval_files(out_dir, heldout, heldout_text):
    """heldout/tasks.jsonl ({"task", "prompt", "answer"} per line, the tasks round-robin so that any prefix of
    the file, e.g. the requests of one phase of a load ramp, carries every task) and heldout/text.txt."""
    folder = os.path.join(out_dir, "heldout")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tasks.jsonl"), "w") as f:
        for i in range(max(map(len, heldout.values()))):
            for task, items in heldout.items():
                if i < len(items):
                    prompt, answer = items[i]
                    f.write(json.dumps({"task": task, "prompt": prompt, "answer": answer}) + "\n")
    with open(os.path.join(folder, "text.txt"), "w") as f:
        f.write("\n\n".join(heldout_text) + "\n")


@torch.no_grad()
def task_accuracy(m, encoder, items, top_k=None, batch=64):
    """Greedy exact match, computed teacher-forced: the greedy answer equals the reference exactly when the
    argmax at every answer position (and at the closing <|im_end|>) is the reference token."""
    correct = 0
    pad = encoder.special["<|endoftext|>"]
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        seqs, spans = [], []
        for prompt, answer in chunk:
            head = encoder.encode(encoder.chat(prompt))
            full = encoder.encode(encoder.chat(prompt, answer))[:-1]  # drop the trailing newline
            seqs.append(full)
            spans.append((len(head), len(full)))
        length = max(map(len, seqs))
        ids = torch.full((len(seqs), length), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), length), dtype=torch.bool)
        for i, s in enumerate(seqs):
            ids[i, :len(s)] = torch.tensor(s)
            mask[i, :len(s)] = True
        logits, _, _ = m(ids, mask, top_k)
        pred = logits.argmax(-1)
        for i, (a, b) in enumerate(spans):
            correct += int(torch.equal(pred[i, a - 1:b - 1], ids[i, a:b]))
    return correct / len(items)


@torch.no_grad()
def text_loss(m, encoder, paragraphs, window=256):
    total, count = 0.0, 0
    for p in paragraphs:
        ids = torch.tensor([encoder.encode(p)[:window]])
        if ids.shape[1] < 2:
            continue
        logits, _, _ = m(ids)
        total += F.cross_entropy(logits[0, :-1], ids[0, 1:], reduction="sum").item()
        count += ids.shape[1] - 1
    return total / count


def evaluate(ref, encoder, heldout, heldout_text):
    """Held-out prose loss and task accuracy at k, k/2 and 1 experts, on export.exported_model."""
    full_k = ref.config["num_experts_per_tok"]
    result = {"experts_per_token": full_k, "heldout_text_loss": text_loss(ref, encoder, heldout_text)}
    for k in sorted({full_k, max(1, full_k // 2), 1}, reverse=True):
        result[f"accuracy_k{k}"] = {t: task_accuracy(ref, encoder, items, k) for t, items in heldout.items()}
    return result


def write_card(args, config, log, evaluation, out_dir, params):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    steps = [e["step"] for e in log]
    losses = [e["loss"] for e in log]
    smooth = [sum(losses[max(0, i - 19):i + 1]) / len(losses[max(0, i - 19):i + 1]) for i in range(len(losses))]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, losses, alpha=0.3, label="loss per step")
    ax.plot(steps, smooth, label="mean of 20 steps")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (nats/token)")
    ax.set_title(f"{config['model_type']}: training loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "loss.png"), dpi=80)
    minutes = log[-1]["elapsed_s"] / 60 if log else 0
    rows = []
    for key in sorted(k for k in evaluation if k.startswith("accuracy_k")):
        rows.append(f"| {key[len('accuracy_'):]} | " + " | ".join(f"{v:.3f}" for v in evaluation[key].values()) + " |")
    tasks = list(next(v for k, v in evaluation.items() if k.startswith("accuracy_k")).keys())
    card = f"""# {os.path.basename(os.path.abspath(out_dir))}

A small fine-grained `{config['model_type']}` trained from scratch on 2 CPU cores by moestream's
`tools/train/train.py`, to measure what fewer active experts cost. It is not a general assistant: it
knows the synthetic tasks below and a little English from the Python documentation.

- Layout: {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, vocab {config['vocab_size']},
  {config.get('num_experts', config.get('n_routed_experts'))} routed experts, top-{config['num_experts_per_tok']},
  expert width {config['moe_intermediate_size']}; {params / 1e6:.2f} M parameters, BF16 (`model.safetensors`).
- Trained: {log[-1]['step'] if log else 0} steps of {args.batch} sequences, AdamW lr {args.lr} (warm-up {args.warmup},
  cosine to 10%), seed {args.seed}, bf16 autocast {args.bf16}, {args.threads} threads, {minutes:.1f} minutes.
- Command (this stage): `python3 tools/train/train.py {' '.join(a for a in __import__('sys').argv[1:])}`
- Data: {int(round(100 * args.text_fraction))}% prose from the Python 3.11 documentation sources (Debian `python3.11-doc`, PSF
  License Version 2), the rest synthetic chat tasks (loss on the answers only: {args.answer_loss_only}) ({', '.join(tasks)}); words for sorting from Debian's
  `wamerican` (SCOWL, permissive). Held-out items (`heldout/tasks.jsonl`, 1,000 per task, their own seed) and
  every 20th paragraph (`heldout/text.txt`) were never trained on.
- Tokenizer: byte-level BPE trained by the same tool (Qwen2's pre-tokenizer, digits one by one), ChatML
  template (`<|im_start|>`, `<|im_end|>`).
- `reference_logits.safetensors`: the training tool's logits for a few prompts (F32 math on these BF16
  weights); moestream's tests compare the engine against them.

## Held-out results at training time (teacher-forced greedy exact match, the tool's own forward pass)

Held-out prose loss: {evaluation['heldout_text_loss']:.3f} nats/token.

| experts | {' | '.join(tasks)} |
|---|{'---|' * len(tasks)}
{chr(10).join(rows)}

![training loss](loss.png)
"""
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(card)
    with open(os.path.join(out_dir, "training_log.json"), "w") as f:
        json.dump({"evaluation": evaluation, "log": log[::10]}, f)
