"""Writes small random-weight models of both families with the training tool's own forward pass as a
reference: gpu/src/test/resources/models/train-ref-{qwen3-moe,deepseek-v2}/ (config.json, model.safetensors
in BF16, reference_logits.safetensors). The engine's TrainedModelLogitsTest holds its logits to these,
so the trainer's model definitions (model.py) and the engine agree before any long training run.

Weights are drawn with std 0.1 (not the 0.02 of training's start) so that attention is far from
uniform and routing far from flat: a mistake in RoPE layout or routing shows in the logits.

  /usr/bin/python3 tools/train/make_reference_models.py gpu/src/test/resources/models
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import configs  # noqa: E402
import export  # noqa: E402
import model as moe_model  # noqa: E402

SMALL = {
    "qwen3-moe": dict(configs.QWEN3_MOE, vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=16, num_experts=8, num_experts_per_tok=4,
                      moe_intermediate_size=32, max_window_layers=2, max_position_embeddings=256,
                      initializer_range=0.1),
    "deepseek-v2": dict(configs.DEEPSEEK_V2, vocab_size=512, hidden_size=64, intermediate_size=128,
                        moe_intermediate_size=32, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=4,
                        n_routed_experts=8, num_experts_per_tok=3, kv_lora_rank=32, qk_rope_head_dim=8,
                        qk_nope_head_dim=16, v_head_dim=16, max_position_embeddings=256, initializer_range=0.1),
}


def main(out_root):
    for name, config in SMALL.items():
        torch.manual_seed(11)
        m = moe_model.CausalLm(config).eval()
        with torch.no_grad():
            for n, p in m.named_parameters():
                if "norm" in n:
                    p.add_(torch.randn_like(p) * 0.1)  # norms away from 1, so a missing norm shows
        out = os.path.join(out_root, "train-ref-" + name)
        os.makedirs(out, exist_ok=True)
        state = {n: t.detach().to(torch.bfloat16) for n, t in m.hf_state_dict().items()}
        export.write_safetensors(os.path.join(out, "model.safetensors"), state, {"format": "pt"})
        import json
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(export.hf_config(config, {"<|endoftext|>": 0, "<|im_end|>": 1}), f, indent=2)
        gen = torch.Generator().manual_seed(5)
        prompts = [torch.randint(2, config["vocab_size"], (n,), generator=gen).tolist() for n in (7, 19, 33, 64)]
        export.write_reference_logits(export.exported_model(m, state), prompts, os.path.join(out, "reference_logits.safetensors"))
        print(out, sum(t.numel() for t in state.values()), "parameters")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gpu/src/test/resources/models")
