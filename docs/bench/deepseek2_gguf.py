#!/usr/bin/env python3
"""A random-weight GGUF of llama.cpp architecture `deepseek2` in the shape of a moestream test model, for the peer
side of docs/bench/side-by-side.sh (docs/BENCHMARKS.md). Random weights, as the moestream model's: the two hold
different values of the same shapes, which is all a speed comparison needs.

  gen      deepseek2_gguf.py gen --config MODEL/config.json --tokenizer tokenizer.json --dtype bf16 --out M.gguf
  settopk  deepseek2_gguf.py settopk M.gguf 6      (expert_used_count in place; the SETTOPK of side-by-side.sh)

The GGUF container, the tokenizer import and the dtype encodings are those of the shared benchmark writer
(gen_moe_gguf.py, which writes the qwen3moe shapes), found through --writer or GEN_MOE_GGUF; this file only adds
the deepseek2 tensors and keys. The shape comes from the moestream model's config.json (make-test-model --arch
deepseek_v2). ik_llama.cpp reads a deepseek2 model without a q-LoRA only at 26 or 27 layers (its "lite" test),
so a model cut to fewer layers needs q_lora_rank > 0 on both sides.

Tensors (ggml ne order, ne0 fastest), per layer i:
  attn_norm {E}  attn_q_a {E, QR}  attn_q_a_norm {QR}  attn_q_b {QR, H*(nope+rope)}
  attn_kv_a_mqa {E, KR+rope}  attn_kv_a_norm {KR}  attn_kv_b {KR, H*(nope+v)}  attn_output {H*v, E}  ffn_norm {E}
  dense (i < first_k_dense_replace): ffn_gate/ffn_up {E, F}, ffn_down {F, E}
  MoE: ffn_gate_inp {E, X} (F32)  ffn_gate_exps/ffn_up_exps {E, FE, X}  ffn_down_exps {FE, E, X}
       ffn_gate_shexp/ffn_up_shexp {E, FE*S}  ffn_down_shexp {FE*S, E}
"""
import argparse
import importlib.util
import json
import os
import struct
import sys

DEFAULT_WRITER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/tools/peer/gen_moe_gguf.py")


def load_writer(path):
    if not os.path.isfile(path):
        sys.exit(f"deepseek2_gguf: the GGUF writer {path} does not exist (give --writer or GEN_MOE_GGUF)")
    spec = importlib.util.spec_from_file_location("gen_moe_gguf", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def require(config, key):
    if key not in config:
        sys.exit(f"deepseek2_gguf: config.json has no {key}")
    return config[key]


def tensor_specs(g, c, dtype, n_vocab):
    E = require(c, "hidden_size")
    H = require(c, "num_attention_heads")
    QR = require(c, "q_lora_rank") or 0
    KR = require(c, "kv_lora_rank")
    nope, rope, v = require(c, "qk_nope_head_dim"), require(c, "qk_rope_head_dim"), require(c, "v_head_dim")
    X, FE, S = require(c, "n_routed_experts"), require(c, "moe_intermediate_size"), require(c, "n_shared_experts")
    F, dense = require(c, "intermediate_size"), require(c, "first_k_dense_replace")
    if QR == 0:
        sys.exit("deepseek2_gguf: q_lora_rank 0 (V2-Lite's q_proj) loads in ik_llama.cpp only at 26 or 27 layers; "
                 "make the model with --q-lora-rank > 0")
    w = g.DTYPES[dtype]
    s = [("token_embd.weight", (E, n_vocab), w, "normal")]
    for i in range(require(c, "num_hidden_layers")):
        p = f"blk.{i}."
        s += [
            (p + "attn_norm.weight", (E,), g.T_F32, "ones"),
            (p + "attn_q_a.weight", (E, QR), w, "normal"),
            (p + "attn_q_a_norm.weight", (QR,), g.T_F32, "ones"),
            (p + "attn_q_b.weight", (QR, H * (nope + rope)), w, "normal"),
            (p + "attn_kv_a_mqa.weight", (E, KR + rope), w, "normal"),
            (p + "attn_kv_a_norm.weight", (KR,), g.T_F32, "ones"),
            (p + "attn_kv_b.weight", (KR, H * (nope + v)), w, "normal"),
            (p + "attn_output.weight", (H * v, E), w, "normal"),
            (p + "ffn_norm.weight", (E,), g.T_F32, "ones"),
        ]
        if i < dense:
            s += [(p + "ffn_gate.weight", (E, F), w, "normal"), (p + "ffn_up.weight", (E, F), w, "normal"),
                  (p + "ffn_down.weight", (F, E), w, "normal")]
        else:
            s += [
                (p + "ffn_gate_inp.weight", (E, X), g.T_F32, "normal"),
                (p + "ffn_gate_exps.weight", (E, FE, X), w, "normal"),
                (p + "ffn_up_exps.weight", (E, FE, X), w, "normal"),
                (p + "ffn_down_exps.weight", (FE, E, X), w, "normal"),
                (p + "ffn_gate_shexp.weight", (E, FE * S), w, "normal"),
                (p + "ffn_up_shexp.weight", (E, FE * S), w, "normal"),
                (p + "ffn_down_shexp.weight", (FE * S, E), w, "normal"),
            ]
    s += [("output_norm.weight", (E,), g.T_F32, "ones"), ("output.weight", (E, n_vocab), w, "normal")]
    return s


def build_kvs(g, c, dtype, tok, name):
    tokens, types, merges, sp = tok
    a = "deepseek2"
    H = c["num_attention_heads"]
    return [
        ("general.architecture", g.GT_STR, a),
        ("general.name", g.GT_STR, name),
        ("general.file_type", g.GT_U32, g.FILE_TYPE[dtype]),
        ("general.quantization_version", g.GT_U32, 2),
        (f"{a}.context_length", g.GT_U32, c.get("max_position_embeddings", 4096)),
        (f"{a}.embedding_length", g.GT_U32, c["hidden_size"]),
        (f"{a}.feed_forward_length", g.GT_U32, c["intermediate_size"]),
        (f"{a}.block_count", g.GT_U32, c["num_hidden_layers"]),
        (f"{a}.attention.head_count", g.GT_U32, H),
        (f"{a}.attention.head_count_kv", g.GT_U32, H),
        (f"{a}.attention.key_length", g.GT_U32, c["qk_nope_head_dim"] + c["qk_rope_head_dim"]),
        (f"{a}.attention.value_length", g.GT_U32, c["v_head_dim"]),
        (f"{a}.attention.q_lora_rank", g.GT_U32, c["q_lora_rank"]),
        (f"{a}.attention.kv_lora_rank", g.GT_U32, c["kv_lora_rank"]),
        (f"{a}.rope.dimension_count", g.GT_U32, c["qk_rope_head_dim"]),
        (f"{a}.rope.freq_base", g.GT_F32, float(c.get("rope_theta", 10000.0))),
        (f"{a}.attention.layer_norm_rms_epsilon", g.GT_F32, float(c.get("rms_norm_eps", 1e-6))),
        (f"{a}.leading_dense_block_count", g.GT_U32, c["first_k_dense_replace"]),
        (f"{a}.expert_count", g.GT_U32, c["n_routed_experts"]),
        (f"{a}.expert_used_count", g.GT_U32, c["num_experts_per_tok"]),
        (f"{a}.expert_feed_forward_length", g.GT_U32, c["moe_intermediate_size"]),
        (f"{a}.expert_shared_count", g.GT_U32, c["n_shared_experts"]),
        (f"{a}.expert_weights_scale", g.GT_F32, float(c.get("routed_scaling_factor", 1.0))),
        (f"{a}.expert_weights_norm", g.GT_BOOL, bool(c.get("norm_topk_prob", False))),
        (f"{a}.expert_gating_func", g.GT_U32, 1),  # softmax, as DeepSeek-V2
        ("tokenizer.ggml.model", g.GT_STR, "gpt2"),
        ("tokenizer.ggml.pre", g.GT_STR, "qwen2"),
        ("tokenizer.ggml.tokens", g.GT_ARR, tokens, g.GT_STR),
        ("tokenizer.ggml.token_type", g.GT_ARR, types, g.GT_I32),
        ("tokenizer.ggml.merges", g.GT_ARR, merges, g.GT_STR),
        ("tokenizer.ggml.bos_token_id", g.GT_U32, sp["bos"]),
        ("tokenizer.ggml.eos_token_id", g.GT_U32, sp["eos"]),
        ("tokenizer.ggml.padding_token_id", g.GT_U32, sp["pad"]),
        ("tokenizer.ggml.add_bos_token", g.GT_BOOL, False),
    ]


def fit_tokenizer(tok, n_vocab):
    """A larger vocabulary (Qwen's 151k for DeepSeek's 102,400) cut to n_vocab ids: merges whose parts or result are
    cut go, and the last two ids become the control tokens bos/pad and eos (the benchmarks feed token ids, not
    text, so only a loadable vocabulary of the model's size matters)."""
    tokens, types, merges, specials = tok
    if len(tokens) <= n_vocab:
        return tok
    tokens, types = tokens[:n_vocab], types[:n_vocab]
    tokens[n_vocab - 2], types[n_vocab - 2] = "<|endoftext|>", 3
    tokens[n_vocab - 1], types[n_vocab - 1] = "<|im_end|>", 3
    kept = set(tokens)
    merges = [m for m in merges if all(part in kept for part in m.split(" ")) and m.replace(" ", "") in kept]
    return tokens, types, merges, dict(bos=n_vocab - 2, eos=n_vocab - 1, pad=n_vocab - 2)


def cmd_gen(a):
    g = load_writer(a.writer)
    with open(a.config) as f:
        c = json.load(f)
    if c.get("model_type") not in ("deepseek_v2", "deepseek_v3"):
        sys.exit(f"deepseek2_gguf: {a.config} is a {c.get('model_type')} model, not deepseek_v2")
    tok = fit_tokenizer(g.load_tokenizer(a.tokenizer, c["vocab_size"]), c["vocab_size"])
    n_vocab = len(tok[0])
    specs = tensor_specs(g, c, a.dtype, n_vocab)
    kvs = build_kvs(g, c, a.dtype, tok, f"random-deepseek2-{a.dtype}")
    size = g.write_gguf(a.out, kvs, specs, a.seed, a.std)
    print(f"wrote {a.out}: {size / 1e6:.1f} MB, {len(specs)} tensors, dtype={a.dtype}, seed={a.seed}, std={a.std}")


def cmd_settopk(a):
    g = load_writer(a.writer)
    _, kv, _, _ = g.read_header(a.file)
    arch = kv["general.architecture"][1]
    vt, old, offset = kv[f"{arch}.expert_used_count"]
    if vt != g.GT_U32 or not 1 <= a.k <= kv[f"{arch}.expert_count"][1]:
        sys.exit(f"deepseek2_gguf: cannot set {arch}.expert_used_count to {a.k}")
    with open(a.file, "r+b") as f:
        f.seek(offset)
        f.write(struct.pack("<I", a.k))
    print(f"{a.file}: {arch}.expert_used_count {old} -> {a.k}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writer", default=os.environ.get("GEN_MOE_GGUF", DEFAULT_WRITER),
                    help="the shared gen_moe_gguf.py (default: $GEN_MOE_GGUF or ../shared/tools/peer/gen_moe_gguf.py)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    gen = sub.add_parser("gen")
    gen.add_argument("--config", required=True, help="the moestream model's config.json")
    gen.add_argument("--tokenizer", required=True, help="a Hugging Face tokenizer.json (byte-level BPE)")
    gen.add_argument("--dtype", choices=["f32", "bf16", "q8_0"], default="bf16")
    gen.add_argument("--seed", type=int, default=1234)
    gen.add_argument("--std", type=float, default=0.02)
    gen.add_argument("--out", required=True)
    gen.set_defaults(fn=cmd_gen)
    top = sub.add_parser("settopk")
    top.add_argument("file")
    top.add_argument("k", type=int)
    top.set_defaults(fn=cmd_settopk)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
