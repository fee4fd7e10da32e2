#!/usr/bin/env python3
"""The peer's GGUF holding the *same weights* as a moestream model folder (make-test-model's, or any Hugging Face
qwen3_moe / deepseek_v2 checkpoint in one model.safetensors of BF16/F16/F32 tensors), for docs/bench/side-by-side.sh.

  same_weights_gguf.py --model MODEL_DIR --tokenizer tokenizer.json --dtype bf16|q8_0|f32 --out M.gguf

Why: with independent random weights the two engines route differently, and at batch 16 the number of distinct
experts a step reads (what a memory-bound step pays for) is a property of the weights, not of the engine. With the
same values both engines route the same tokens to the same experts (up to rounding), so the batch figures compare
the engines alone. bench-decode prints the distinct experts per layer of its own runs.

The container, tokenizer import and encodings (BF16 round-to-nearest-even, Q8_0 as ggml's reference quantizer) are
the shared benchmark writer's (gen_moe_gguf.py, --writer or GEN_MOE_GGUF); the deepseek2 tensor list and keys are
deepseek2_gguf.py's. This file maps each GGUF tensor to the checkpoint's tensors, in ggml order (ne0 fastest, the
row-major order of a Hugging Face [out, in] matrix; per-expert matrices stacked along the slowest axis).
"""
import argparse
import importlib.util
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WRITER = os.path.join(HERE, "../../../shared/tools/peer/gen_moe_gguf.py")


def load_module(name, path):
    if not os.path.isfile(path):
        sys.exit(f"same_weights_gguf: {path} does not exist")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Checkpoint:
    """One model.safetensors, tensors read on demand as float32 (BF16 and F16 widened exactly)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            self.header = json.loads(f.read(length))
        self.base = 8 + length
        self.data = np.memmap(path, dtype=np.uint8, mode="r")

    def f32(self, name):
        info = self.header.get(name)
        if info is None:
            sys.exit(f"same_weights_gguf: {self.path} has no tensor {name}")
        start, end = info["data_offsets"]
        raw = self.data[self.base + start:self.base + end]
        dtype = info["dtype"]
        if dtype == "BF16":
            return (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        if dtype == "F16":
            return raw.view("<f2").astype(np.float32)
        if dtype == "F32":
            return np.array(raw.view("<f4"))
        sys.exit(f"same_weights_gguf: tensor {name} is {dtype}; only BF16, F16 and F32 convert")


FIXED = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
         "output.weight": "lm_head.weight"}
STACKED = {"ffn_gate_exps.weight": "gate_proj", "ffn_up_exps.weight": "up_proj", "ffn_down_exps.weight": "down_proj"}
COMMON = {"attn_norm.weight": "input_layernorm.weight", "attn_q.weight": "self_attn.q_proj.weight",
          "attn_output.weight": "self_attn.o_proj.weight", "ffn_norm.weight": "post_attention_layernorm.weight",
          "ffn_gate_inp.weight": "mlp.gate.weight"}
QWEN3 = dict(COMMON, **{"attn_k.weight": "self_attn.k_proj.weight", "attn_v.weight": "self_attn.v_proj.weight",
                        "attn_q_norm.weight": "self_attn.q_norm.weight",
                        "attn_k_norm.weight": "self_attn.k_norm.weight"})
DEEPSEEK2 = dict(COMMON, **{
    "attn_q_a.weight": "self_attn.q_a_proj.weight", "attn_q_a_norm.weight": "self_attn.q_a_layernorm.weight",
    "attn_q_b.weight": "self_attn.q_b_proj.weight", "attn_kv_a_mqa.weight": "self_attn.kv_a_proj_with_mqa.weight",
    "attn_kv_a_norm.weight": "self_attn.kv_a_layernorm.weight", "attn_kv_b.weight": "self_attn.kv_b_proj.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight", "ffn_gate_shexp.weight": "mlp.shared_experts.gate_proj.weight",
    "ffn_up_shexp.weight": "mlp.shared_experts.up_proj.weight",
    "ffn_down_shexp.weight": "mlp.shared_experts.down_proj.weight"})


def sources(per_layer, name, experts):
    """GGUF tensor -> the checkpoint tensors it is made of (several: experts stacked along the slowest axis)."""
    if name in FIXED:
        return [FIXED[name]]
    _, layer, part = name.split(".", 2)
    p = f"model.layers.{layer}."
    if part in per_layer:
        return [p + per_layer[part]]
    if part in STACKED:
        return [f"{p}mlp.experts.{e}.{STACKED[part]}.weight" for e in range(experts)]
    sys.exit(f"same_weights_gguf: no checkpoint tensor for {name}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writer", default=os.environ.get("GEN_MOE_GGUF", DEFAULT_WRITER),
                    help="the shared gen_moe_gguf.py (default: $GEN_MOE_GGUF or ../shared/tools/peer/gen_moe_gguf.py)")
    ap.add_argument("--model", required=True, help="the model folder: config.json and model.safetensors")
    ap.add_argument("--tokenizer", required=True, help="a Hugging Face tokenizer.json (byte-level BPE)")
    ap.add_argument("--dtype", choices=["f32", "bf16", "q8_0"], default="bf16")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    g = load_module("gen_moe_gguf", a.writer)
    with open(os.path.join(a.model, "config.json")) as f:
        c = json.load(f)
    checkpoint = Checkpoint(os.path.join(a.model, "model.safetensors"))
    arch = c.get("model_type")
    vocab = c["vocab_size"]
    if arch == "qwen3_moe":
        if c.get("mlp_only_layers") or c.get("decoder_sparse_step", 1) != 1 or c.get("tie_word_embeddings"):
            sys.exit("same_weights_gguf: qwen3_moe with dense layers or tied embeddings is not mapped")
        cfg = dict(n_embd=c["hidden_size"], n_layer=c["num_hidden_layers"], n_head=c["num_attention_heads"],
                   n_head_kv=c["num_key_value_heads"], head_dim=c["head_dim"], n_expert=c["num_experts"],
                   n_ff_exp=c["moe_intermediate_size"], topk=c["num_experts_per_tok"])
        tok = g.load_tokenizer(a.tokenizer, vocab)
        specs = g.tensor_specs(cfg, len(tok[0]), a.dtype)
        kvs = g.build_kvs(cfg, a.dtype, tok, f"moestream-qwen3moe-{a.dtype}")
        per_layer, experts = QWEN3, c["num_experts"]
    elif arch in ("deepseek_v2", "deepseek_v3"):
        d = load_module("deepseek2_gguf", os.path.join(HERE, "deepseek2_gguf.py"))
        tok = d.fit_tokenizer(g.load_tokenizer(a.tokenizer, vocab), vocab)
        specs = d.tensor_specs(g, c, a.dtype, len(tok[0]))
        kvs = d.build_kvs(g, c, a.dtype, tok, f"moestream-deepseek2-{a.dtype}")
        per_layer, experts = DEEPSEEK2, c["n_routed_experts"]
    else:
        sys.exit(f"same_weights_gguf: model_type {arch} is not mapped (qwen3_moe, deepseek_v2)")
    if len(tok[0]) != vocab:
        sys.exit(f"same_weights_gguf: the tokenizer gives {len(tok[0])} ids, the model has {vocab}")

    written = [0]

    def chunks(name, ne, init, seed, std, chunk_elems=0):
        """Replaces the writer's random generator: the checkpoint's values, whole source tensors in order."""
        total = int(np.prod(ne))
        parts = sources(per_layer, name, experts)
        size = 0
        for part in parts:
            shape = checkpoint.header[part]["shape"] if part in checkpoint.header else None
            if shape is not None and list(reversed(shape)) != list(ne[:len(shape)]):
                sys.exit(f"same_weights_gguf: {part} is {shape}, {name} (ne {list(ne)}) needs {list(reversed(ne))}")
            x = checkpoint.f32(part)
            size += x.size
            yield x
        if size != total:
            sys.exit(f"same_weights_gguf: {name} needs {total} values (ne {list(ne)}), {parts[0]}... hold {size}")
        written[0] += 1
        print(f"\r{written[0]}/{len(specs)} tensors", end="", file=sys.stderr, flush=True)

    g.gen_tensor_chunks = chunks
    size = g.write_gguf(a.out, kvs, specs, 0, 0.0)
    print(f"\nwrote {a.out}: {size / 1e6:.1f} MB, {len(specs)} tensors from {a.model}, dtype={a.dtype}", file=sys.stderr)


if __name__ == "__main__":
    main()
