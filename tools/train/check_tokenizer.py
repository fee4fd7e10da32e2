"""Checks bpe.Encoder against reference ids: prints every case where they differ.

    python3 tools/train/check_tokenizer.py <tokenizer.json> <vectors.json> [family]

The vectors file has the shape of gpu/src/test/resources/tokenizers/moestream-tasks-vectors.json:
"cases" (text, ids, decoded) and optionally "chat_cases" (messages, add_generation_prompt, rendered,
ids), each keyed by tokenizer family. The Encoder is built from the vocab and merges of the given
tokenizer.json, so this checks the trainer's own encoder, not just the file it wrote.
Exit status 0 when every case agrees, 1 otherwise.
"""
import json
import sys

import bpe


def load_encoder(tokenizer_path):
    with open(tokenizer_path, encoding="utf-8") as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in tok["model"]["merges"]]
    encoder = bpe.Encoder(vocab, merges)
    # The Encoder numbers the special tokens after the vocabulary; the file must agree.
    in_file = {t["content"]: t["id"] for t in tok["added_tokens"]}
    if in_file != encoder.special:
        raise SystemExit(f"{tokenizer_path}: added_tokens {in_file} are not bpe's {encoder.special}")
    return encoder


def render_chat(encoder, messages, add_generation_prompt):
    """bpe's own rendering of the ChatML template; it only writes single user turns."""
    if len(messages) != 1 or messages[0]["role"] != "user" or not add_generation_prompt:
        return None
    return encoder.chat(messages[0]["content"])


def main(argv):
    if len(argv) not in (3, 4):
        raise SystemExit(__doc__)
    encoder = load_encoder(argv[1])
    with open(argv[2], encoding="utf-8") as f:
        vectors = json.load(f)
    families = [argv[3]] if len(argv) == 4 else list(vectors["cases"])
    checked = mismatches = 0

    def report(what, index, expected, actual):
        nonlocal mismatches
        mismatches += 1
        print(f"MISMATCH {what} #{index}:\n  expected {expected!r}\n  bpe      {actual!r}")

    for family in families:
        for i, case in enumerate(vectors["cases"].get(family, [])):
            checked += 1
            ids = encoder.encode(case["text"])
            if ids != case["ids"]:
                report(f"{family} encode {case['text']!r}", i, case["ids"], ids)
            decoded = encoder.decode(case["ids"])
            if decoded != case["decoded"]:
                report(f"{family} decode", i, case["decoded"], decoded)
        for i, case in enumerate(vectors.get("chat_cases", {}).get(family, [])):
            checked += 1
            rendered = render_chat(encoder, case["messages"], case["add_generation_prompt"])
            if rendered is not None and rendered != case["rendered"]:
                report(f"{family} chat render", i, case["rendered"], rendered)
            ids = encoder.encode(case["rendered"])
            if ids != case["ids"]:
                report(f"{family} chat encode {case['rendered']!r}", i, case["ids"], ids)
    print(f"{checked} cases checked in {', '.join(families)}: {mismatches} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
