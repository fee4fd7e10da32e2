"""Writes a Hugging Face model folder: config.json, model.safetensors (BF16), generation_config.json,
tokenizer files, and reference logits computed from exactly the exported (BF16-rounded) weights."""
import json
import os
import struct

import torch

_DTYPES = {torch.bfloat16: "BF16", torch.float32: "F32", torch.int32: "I32", torch.float16: "F16"}


def write_safetensors(path, tensors, metadata=None):
    """The safetensors format: 8-byte little-endian header size, JSON header, raw little-endian data."""
    header = {}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = bytearray(data[start:end])
        if info["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype={"F32": torch.float32, "I32": torch.int32}[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


def hf_config(c, special_ids):
    """config.json: exactly the fields transformers' Qwen3MoeConfig / DeepseekV2Config define."""
    cfg = {k: v for k, v in c.items() if not k.startswith("_")}
    cfg["bos_token_id"] = special_ids["<|endoftext|>"]
    cfg["eos_token_id"] = special_ids["<|im_end|>"]
    cfg["torch_dtype"] = "bfloat16"
    cfg["transformers_version"] = "4.57.1"
    cfg["use_cache"] = True
    cfg["tie_word_embeddings"] = False
    return cfg


def write_model(model, out_dir, special_ids, tokenizer_json, tokenizer_config):
    os.makedirs(out_dir, exist_ok=True)
    state = {n: t.detach().to(torch.bfloat16) for n, t in model.hf_state_dict().items()}
    write_safetensors(os.path.join(out_dir, "model.safetensors"), state, {"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hf_config(model.config, special_ids), f, indent=2)
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": special_ids["<|endoftext|>"], "eos_token_id": [special_ids["<|im_end|>"], special_ids["<|endoftext|>"]],
                   "do_sample": False, "transformers_version": "4.57.1"}, f, indent=2)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config, f, indent=2)
    return state


def exported_model(model, state):
    """An F32 copy of model holding exactly the exported (BF16-rounded) weights, in eval mode: what the
    reference logits and the training-time evaluation are computed on."""
    import copy
    ref = copy.deepcopy(model).float()
    ref.load_hf_state_dict({n: t.float() for n, t in state.items()})
    return ref.eval()


def write_reference_logits(exported, prompts_ids, path):
    """Logits of every position of each prompt, from exported_model (BF16 weights, F32 math)."""
    tensors = {}
    with torch.no_grad():
        for i, ids in enumerate(prompts_ids):
            logits, _, _ = exported(torch.tensor([ids]))
            tensors[f"prompt.{i}.ids"] = torch.tensor(ids, dtype=torch.int32)
            tensors[f"prompt.{i}.logits"] = logits[0].float()
    write_safetensors(path, tensors, {"about": "reference logits [positions, vocab] of the training tool's forward pass"})
