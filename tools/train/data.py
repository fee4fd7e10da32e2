"""Training data: English prose from a Debian package plus synthetic tasks with exact answers.

English: the reStructuredText sources of the Python 3.11 documentation (Debian package python3.11-doc,
/usr/share/doc/python3.11/html/_sources; PSF License Version 2), with markup lines dropped.
Words for the sorting task: /usr/share/dict/words (Debian package wamerican, SCOWL; permissive licence).

Every task item is drawn from its own random.Random(seed); the training stream uses seeds from
TRAIN_SEED and the held-out sets use HELDOUT_SEED, and held-out items are removed from training by
their exact prompt text, so no held-out prompt is ever trained on.
"""
import os
import random
import re

DOC_ROOT = "/usr/share/doc/python3.11/html/_sources"
DOC_PARTS = ["tutorial", "howto", "faq", "reference", "library"]
WORDS_FILE = "/usr/share/dict/words"
TRAIN_SEED = 1234
HELDOUT_SEED = 987654
TASKS = ["add", "sub", "sort", "reverse", "copy", "count", "recall"]

_MARKUP = re.compile(r"^\s*(\.\. |:[a-z]+:|[=\-~^\"'`#*+]{3,}\s*$)")
_ROLE = re.compile(r":[a-z:]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")


def english_paragraphs(max_chars=None):
    """Paragraphs of plain prose, in a fixed order (sorted file names)."""
    paragraphs = []
    total = 0
    for part in DOC_PARTS:
        base = os.path.join(DOC_ROOT, part)
        for root, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith(".rst.txt"):
                    continue
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    text = f.read()
                for block in text.split("\n\n"):
                    lines = block.split("\n")
                    if any(_MARKUP.match(line) for line in lines) or block.startswith((" ", "\t")):
                        continue  # directives, titles, indented code and tables
                    para = " ".join(line.strip() for line in lines).strip()
                    para = _ROLE.sub(r"\1", para).replace("``", "").replace("**", "").replace("*", "")
                    if len(para) < 80 or not para[0].isupper():
                        continue
                    paragraphs.append(para)
                    total += len(para)
                    if max_chars and total >= max_chars:
                        return paragraphs
    return paragraphs


def sort_words():
    with open(WORDS_FILE, encoding="utf-8") as f:
        words = [w.strip() for w in f]
    words = sorted({w for w in words if w.isascii() and w.isalpha() and w.islower() and 3 <= len(w) <= 6})
    return random.Random(7).sample(words, 300)


_WORDS = None
COLORS = ["red", "blue", "green", "black", "white", "gold", "pink", "gray", "brown", "orange", "purple", "silver"]
SYMBOLS = list("abcdefghijklmnopqrstuvwxyz") + list("0123456789")


def make_item(task, rng):
    """One (prompt, answer) pair of the task, drawn from rng."""
    global _WORDS
    if task == "add":
        a, b = rng.randint(0, 999), rng.randint(0, 999)
        return f"What is {a} + {b}?", str(a + b)
    if task == "sub":
        a, b = rng.randint(0, 999), rng.randint(0, 999)
        a, b = max(a, b), min(a, b)
        return f"What is {a} - {b}?", str(a - b)
    if task == "sort":
        if _WORDS is None:
            _WORDS = sort_words()
        words = rng.sample(_WORDS, rng.randint(3, 5))
        return "Sort these words: " + " ".join(words), " ".join(sorted(words))
    if task == "reverse":
        seq = [rng.choice(SYMBOLS) for _ in range(rng.randint(3, 8))]
        return "Reverse: " + " ".join(seq), " ".join(reversed(seq))
    if task == "copy":
        seq = [rng.choice(SYMBOLS) for _ in range(rng.randint(3, 10))]
        return "Repeat: " + " ".join(seq), " ".join(seq)
    if task == "count":
        letter = rng.choice("abcdefgh")
        seq = [rng.choice("abcdefgh") for _ in range(rng.randint(4, 12))]
        return f"How many times does {letter} appear in: " + " ".join(seq) + "?", str(seq.count(letter))
    if task == "recall":
        names = rng.sample(COLORS, rng.randint(2, 4))
        codes = [rng.randint(100, 9999) for _ in names]
        facts = " ".join(f"The code for {n} is {c}." for n, c in zip(names, codes))
        i = rng.randrange(len(names))
        return f"{facts} What is the code for {names[i]}?", str(codes[i])
    raise ValueError(f"unknown task '{task}' (known: {', '.join(TASKS)})")


def heldout(task, count):
    """The held-out items of one task: a fixed seed per task, never trained on."""
    rng = random.Random(HELDOUT_SEED + TASKS.index(task))
    items, seen = [], set()
    while len(items) < count:
        prompt, answer = make_item(task, rng)
        if prompt not in seen:
            seen.add(prompt)
            items.append((prompt, answer))
    return items


class TaskStream:
    """Endless training items, skipping any prompt that is in the held-out sets."""

    def __init__(self, seed, excluded_prompts):
        self.rng = random.Random(seed)
        self.excluded = excluded_prompts

    def next(self):
        while True:
            task = self.rng.choice(TASKS)
            prompt, answer = make_item(task, self.rng)
            if prompt not in self.excluded:
                return task, prompt, answer
