"""Trains one fine-grained MoE (qwen3_moe or deepseek_v2) on 2 CPU cores and writes it as a Hugging Face
folder the engine (and transformers) load unchanged. Fixed seeds; a checkpoint every --checkpoint-every
steps in --work, from which a stopped run resumes with the same data order.

  python3 tools/train/train.py --arch qwen3_moe --out models/moestream-qwen3-moe --work /tmp/train-qwen
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import configs  # noqa: E402
import data  # noqa: E402
import export  # noqa: E402
import model as moe_model  # noqa: E402
import report  # noqa: E402

HELDOUT_PER_TASK = 1000
TEXT_FRACTION = 0.25
TEXT_CHUNK = 64


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, choices=sorted(configs.BY_ARCH))
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--work", required=True, help="folder for checkpoints and the training log")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=32, help="sequences per step")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--max-minutes", type=float, default=0, help="stop (and export) after this many minutes; 0 = no limit")
    p.add_argument("--init-from", help="start from this checkpoint.pt's weights (fresh optimizer and schedule)")
    p.add_argument("--text-fraction", type=float, default=TEXT_FRACTION, help="share of prose sequences")
    p.add_argument("--answer-loss-only", action="store_true",
                   help="on chat sequences, train only on the assistant's answer (the prompts are random draws)")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True,
                   help="bfloat16 autocast for matmuls (F32 master weights); about 3x faster on AVX512_BF16 CPUs")
    return p.parse_args()


def build_tokenizer(train_paragraphs, excluded):
    stream = data.TaskStream(data.TRAIN_SEED + 1, excluded)
    task_texts = [" ".join(stream.next()[1:]) for _ in range(20000)]
    return bpe.train(train_paragraphs + task_texts, configs.QWEN3_MOE["vocab_size"])


class Batches:
    """Step s always gets the same batch (its own Random), so a resumed run sees the same data."""

    def __init__(self, encoder, paragraphs, excluded, seed, batch, pad_id, text_fraction, answer_loss_only):
        self.encoder, self.paragraphs, self.excluded = encoder, paragraphs, excluded
        self.seed, self.batch, self.pad_id = seed, batch, pad_id
        self.text_fraction, self.answer_loss_only = text_fraction, answer_loss_only

    def get(self, step):
        rng = random.Random(self.seed * 1_000_003 + step)
        stream = data.TaskStream(rng.getrandbits(63), self.excluded)
        seqs, unscored = [], []  # per sequence: positions whose token is not a target (--answer-loss-only)
        for _ in range(self.batch):
            if rng.random() < self.text_fraction:
                ids = self.encoder.encode(rng.choice(self.paragraphs))
                start = rng.randrange(max(1, len(ids) - TEXT_CHUNK))
                seqs.append(ids[start:start + TEXT_CHUNK])
                unscored.append(set())
            else:
                seq, not_targets = self.packed_items(stream)
                seqs.append(seq)
                unscored.append(not_targets)
        length = max(map(len, seqs))
        ids = torch.full((len(seqs), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), length), dtype=torch.bool)
        scored = torch.zeros((len(seqs), length), dtype=torch.bool)  # positions whose token is a target
        for i, s in enumerate(seqs):
            ids[i, :len(s)] = torch.tensor(s)
            mask[i, :len(s)] = True
            scored[i, 1:len(s)] = True
            for position in unscored[i]:
                scored[i, position] = False
        return ids, mask, scored

    def packed_items(self, stream):
        """Chat items one after another up to TEXT_CHUNK tokens (at least one), so no step is spent on padding.
        Each item starts with its own <|im_start|>; with --answer-loss-only only the answers are targets."""
        seq, unscored = [], set()
        while True:
            _, prompt, answer = stream.next()
            item = self.encoder.encode(self.encoder.chat(prompt, answer))
            if seq and len(seq) + len(item) > TEXT_CHUNK:
                return seq, unscored
            if self.answer_loss_only:
                unscored.update(range(len(seq), len(seq) + len(self.encoder.encode(self.encoder.chat(prompt)))))
            seq.extend(item)


def lr_at(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def loss_of(m, ids, mask, scored, bf16):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits, aux, _ = m(ids, mask)
    targets = ids[:, 1:].masked_fill(~scored[:, 1:], -100)
    lm = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
    return lm, aux


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    t0 = time.time()
    paragraphs = data.english_paragraphs()
    heldout_text = paragraphs[::20]
    train_text = [p for i, p in enumerate(paragraphs) if i % 20]
    heldout = {t: data.heldout(t, HELDOUT_PER_TASK) for t in data.TASKS}
    excluded = {p for items in heldout.values() for p, _ in items}
    vocab, merges = build_tokenizer(train_text, excluded)
    encoder = bpe.Encoder(vocab, merges)
    special = encoder.special
    config = dict(configs.BY_ARCH[args.arch])
    config["vocab_size"] = len(vocab) + len(bpe.SPECIAL_TOKENS)
    print(f"data: {len(train_text)} training paragraphs, {len(heldout_text)} held out; tokenizer {config['vocab_size']} ids"
          f" ({time.time() - t0:.1f} s)", flush=True)

    torch.manual_seed(args.seed)
    m = moe_model.CausalLm(config)
    decay = [p for n, p in m.named_parameters() if p.dim() >= 2 and "norm" not in n]
    no_decay = [p for n, p in m.named_parameters() if not (p.dim() >= 2 and "norm" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    ckpt_path = os.path.join(args.work, "checkpoint.pt")
    log = []
    step = 0
    elapsed_before = 0.0
    if os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path)
        m.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        step, log, elapsed_before = ckpt["step"], ckpt["log"], ckpt["elapsed_s"]
        print(f"resumed at step {step}", flush=True)
    elif args.init_from:
        m.load_state_dict(torch.load(args.init_from)["model"])
        print(f"weights from {args.init_from}", flush=True)
    batches = Batches(encoder, train_text, excluded, args.seed, args.batch, special["<|endoftext|>"],
                      args.text_fraction, args.answer_loss_only)
    aux_coef = config.get("router_aux_loss_coef", config.get("aux_loss_alpha", 0.01))
    started = time.time()
    tokens = 0
    m.train()
    while step < args.steps:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args)
        ids, mask, scored = batches.get(step)
        lm, aux = loss_of(m, ids, mask, scored, args.bf16)
        (lm + aux_coef * aux).backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens += int(mask.sum())
        elapsed = elapsed_before + time.time() - started
        log.append({"step": step, "loss": lm.item(), "aux": aux.item(), "elapsed_s": elapsed})
        if step % 10 == 0:
            print(f"step {step}/{args.steps} loss {lm.item():.4f} aux {aux.item():.3f} lr {lr_at(step, args):.2e}"
                  f" {tokens / (time.time() - started):.0f} tok/s {elapsed / 60:.1f} min", flush=True)
        stop = args.max_minutes and elapsed >= args.max_minutes * 60
        if step % args.checkpoint_every == 0 or step == args.steps or stop:
            torch.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "step": step, "log": log,
                        "elapsed_s": elapsed}, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
        if stop:
            print(f"--max-minutes reached at step {step}", flush=True)
            break

    m.eval()
    state = export.write_model(m, args.out, special, bpe.tokenizer_json(vocab, merges),
                               bpe.tokenizer_config(config["max_position_embeddings"]))
    exported = export.exported_model(m, state)
    reference_prompts = [encoder.encode(encoder.chat(heldout[t][0][0])) for t in ("add", "recall", "reverse")]
    reference_prompts.append(encoder.encode(heldout_text[0])[:48])
    export.write_reference_logits(exported, reference_prompts, os.path.join(args.out, "reference_logits.safetensors"))
    report.write_eval_files(args.out, heldout, heldout_text)
    evaluation = report.evaluate(exported, encoder, heldout, heldout_text)
    report.write_card(args, config, log, evaluation, args.out, sum(t.numel() for t in state.values()))
    print(json.dumps(evaluation, indent=1), flush=True)


if __name__ == "__main__":
    main()
