"""A byte-level BPE tokenizer trained here and written as Hugging Face tokenizer.json.

The pre-tokenizer is Qwen2's (the regex splits digits one by one), the model is BPE over GPT-2's
byte-to-unicode alphabet, and the decoder is ByteLevel: the same pieces as the Qwen2/Qwen3 tokenizer,
with a vocabulary learnt from our own data.
"""
import heapq
import json
from collections import Counter, defaultdict

import regex

PRE_TOKENIZE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_CHARS = bytes_to_unicode()
_PATTERN = regex.compile(PRE_TOKENIZE)


def pre_tokens(text):
    for piece in _PATTERN.findall(text):
        yield "".join(BYTE_CHARS[b] for b in piece.encode("utf-8"))


def train(texts, vocab_size):
    """Learn merges until the vocabulary (alphabet + merges + special tokens) reaches vocab_size."""
    word_counts = Counter()
    for text in texts:
        word_counts.update(pre_tokens(text))
    alphabet = sorted(BYTE_CHARS.values(), key=ord)
    words = [list(w) for w in word_counts]
    freqs = list(word_counts.values())
    pair_counts = Counter()
    where = defaultdict(set)
    for i, symbols in enumerate(words):
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += freqs[i]
            where[pair].add(i)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    target = vocab_size - len(alphabet) - len(SPECIAL_TOKENS)
    while len(merges) < target and heap:
        negcount, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negcount or negcount == 0:
            continue  # stale entry
        merges.append(pair)
        merged = pair[0] + pair[1]
        for i in list(where[pair]):
            symbols = words[i]
            f = freqs[i]
            for p in zip(symbols, symbols[1:]):
                pair_counts[p] -= f
                where[p].discard(i)
            out, j = [], 0
            while j < len(symbols):
                if j + 1 < len(symbols) and symbols[j] == pair[0] and symbols[j + 1] == pair[1]:
                    out.append(merged)
                    j += 2
                else:
                    out.append(symbols[j])
                    j += 1
            words[i] = out
            touched = set()
            for p in zip(out, out[1:]):
                pair_counts[p] += f
                where[p].add(i)
                touched.add(p)
            for p in touched:
                heapq.heappush(heap, (-pair_counts[p], p))
        pair_counts.pop(pair, None)
        where.pop(pair, None)
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    return vocab, merges


def tokenizer_json(vocab, merges):
    first_special = len(vocab)
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": first_special + i, "content": tok, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for i, tok in enumerate(SPECIAL_TOKENS)],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PRE_TOKENIZE}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [[a, b] for a, b in merges]},
    }


def tokenizer_config(model_max_length):
    return {
        "add_prefix_space": False,
        "added_tokens_decoder": {},
        "bos_token": None,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": model_max_length,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }


class Encoder:
    """Encodes text with the learnt merges (the reference for our training data, not for speed)."""

    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.special = {tok: len(vocab) + i for i, tok in enumerate(SPECIAL_TOKENS)}
        self.cache = {}
        self.inverse = {i: t for t, i in vocab.items()}
        self.byte_of = {c: b for b, c in BYTE_CHARS.items()}
        self.special_pattern = regex.compile("(" + "|".join(regex.escape(t) for t in SPECIAL_TOKENS) + ")")

    def _word(self, word):
        ids = self.cache.get(word)
        if ids is not None:
            return ids
        symbols = list(word)
        while len(symbols) > 1:
            best = min(((self.ranks.get(p, 1 << 30), i) for i, p in enumerate(zip(symbols, symbols[1:]))))
            if best[0] == 1 << 30:
                break
            i = best[1]
            symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
        ids = [self.vocab[s] for s in symbols]
        if len(self.cache) < 200000:
            self.cache[word] = ids
        return ids

    def encode(self, text):
        import unicodedata
        ids = []
        for part in self.special_pattern.split(text):
            if not part:
                continue
            if part in self.special:
                ids.append(self.special[part])
                continue
            for word in pre_tokens(unicodedata.normalize("NFC", part)):
                ids.extend(self._word(word))
        return ids

    def decode(self, ids):
        out = bytearray()
        text = []
        for i in ids:
            if i in self.inverse:
                out.extend(self.byte_of[c] for c in self.inverse[i])
            else:
                text.append(out.decode("utf-8", "replace"))
                out = bytearray()
                text.append(SPECIAL_TOKENS[i - len(self.vocab)])
        text.append(out.decode("utf-8", "replace"))
        return "".join(text)

    def chat(self, user, answer=None):
        """The chat template rendered for one user turn (and the assistant's answer when given)."""
        text = f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
        if answer is not None:
            text += f"{answer}<|im_end|>\n"
        return text
