// Writes the reference ids of the tokenizer tools/train/bpe.py trains, as transformers.js computes
// them, for gpu/src/test/resources/tokenizers/moestream-tasks-vectors.json.
//
// The library lives outside the repository (the project has no Node build):
//   mkdir -p /tmp/tokref && (cd /tmp/tokref && npm install @lenml/tokenizers@3.7.2)
//   NODE_PATH=/tmp/tokref/node_modules node tools/train/reference_vectors.mjs \
//       <model dir with tokenizer.json, tokenizer_config.json and heldout/> <out.json>
//
// Which held-out items are taken is fixed here (evenly spaced, no randomness), so a rerun on the
// same files writes the same vectors.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
const { TokenizerLoader } = require("@lenml/tokenizers");
// The package does not export its package.json; read it beside the resolved entry point.
const PACKAGE_JSON = path.join(path.dirname(require.resolve("@lenml/tokenizers")), "..", "package.json");
const LIBRARY = "@lenml/tokenizers " + JSON.parse(fs.readFileSync(PACKAGE_JSON, "utf8")).version;

const TASK_PROMPTS = 200;
const CHAT_PROMPTS = 50;
const PARAGRAPHS = 40;

// Inputs the held-out data lacks: digit runs (the pre-tokenizer splits digits one by one), text
// outside ASCII, NFC, whitespace runs and line ends, and the special tokens written in plain text.
// No empty text: the library's decode refuses an empty id list.
const EDGE_CASES = [
  "1234567890",
  "x = 3.14159; y = -0.5e10; 000007",
  "What is 99999999 + 1?",
  "naïve café résumé",
  "e\u0301 and A\u030a are decomposed; é and Å are not",
  "日本語のテキスト、中文文本。",
  "안녕하세요 Привет مرحبا שלום",
  "emoji 🎉🚀 and flags 🇫🇷 and ZWJ 👩‍💻",
  "“smart quotes” — dashes… and ’apostrophes’",
  "Ωmega ≥ α·β ∑ ∞",
  "non\u00a0breaking\u2003em\u3000ideographic spaces",
  "a    b",
  "   ",
  "\n\n\n",
  "\t\tindented\twith tabs",
  "trailing spaces   ",
  "windows\r\nline\r\nends\r\n",
  " \n \n  \n",
  "It's they're we'VE I'd you'll SHE'S",
  "def f(x):\n    return [i ** 2 for i in range(x)]  # squares\n",
  "<|im_start|>user\nhi<|im_end|>\n",
  "before<|endoftext|>after",
  "<|im_end|><|im_end|><|endoftext|>",
  "partial <|im_start and <|im_end| and |>",
  "<|IM_START|> is not the token",
];

function spread(items, count) {
  if (count > items.length) {
    throw new Error(`asked for ${count} items, only ${items.length} held out`);
  }
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]);
}

function heldOutPrompts(file) {
  const byTask = new Map();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const row = JSON.parse(line);
    if (!byTask.has(row.task)) byTask.set(row.task, []);
    byTask.get(row.task).push(row);
  }
  const tasks = [...byTask.keys()];
  const prompts = [];
  tasks.forEach((task, t) => {
    // The first TASK_PROMPTS % tasks.length tasks take one prompt more.
    const count = Math.floor(TASK_PROMPTS / tasks.length) + (t < TASK_PROMPTS % tasks.length ? 1 : 0);
    for (const row of spread(byTask.get(task), count)) prompts.push({ task, prompt: row.prompt });
  });
  return prompts;
}

function heldOutParagraphs(file) {
  const paragraphs = fs.readFileSync(file, "utf8").replace(/\n$/, "").split("\n\n");
  return spread(paragraphs.filter((p) => p.length > 0), PARAGRAPHS);
}

const [modelDir, outFile] = process.argv.slice(2);
if (!modelDir || !outFile) {
  console.error("usage: reference_vectors.mjs <model dir> <out.json>");
  process.exit(2);
}
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(path.join(modelDir, "tokenizer.json"), "utf8")),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(modelDir, "tokenizer_config.json"), "utf8")),
});

function textCase(kind, text) {
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  return { kind, text, ids, decoded: tokenizer.decode(ids, { skip_special_tokens: false }) };
}

const prompts = heldOutPrompts(path.join(modelDir, "heldout", "tasks.jsonl"));
const cases = [
  ...prompts.map((p) => textCase("task:" + p.task, p.prompt)),
  ...heldOutParagraphs(path.join(modelDir, "heldout", "text.txt")).map((p) => textCase("prose", p)),
  ...EDGE_CASES.map((text) => textCase("edge", text)),
];
const chatCases = spread(prompts, CHAT_PROMPTS).map((p) => {
  const messages = [{ role: "user", content: p.prompt }];
  const options = { add_generation_prompt: true };
  const rendered = tokenizer.apply_chat_template(messages, { ...options, tokenize: false });
  const ids = Array.from(tokenizer.apply_chat_template(messages, { ...options, tokenize: true,
    return_tensor: false }));
  return { kind: "chat:" + p.task, messages, add_generation_prompt: true, rendered, ids,
    decoded: tokenizer.decode(ids, { skip_special_tokens: false }) };
});

// One case per line keeps the file readable and its diffs small.
const lines = (list) => list.map((c) => "   " + JSON.stringify(c)).join(",\n");
const out = "{\n"
  + ` "source": ${JSON.stringify("encodings produced by " + LIBRARY + " (a port of transformers.js"
    + " tokenizers) from tokenizers/moestream-tasks, add_special_tokens=false; 'decoded' is that"
    + " library's decode of 'ids' (special tokens kept); chat cases: apply_chat_template with"
    + " tokenize=false ('rendered') and tokenize=true ('ids')")},\n`
  + ` "cases": {\n  "moestream-tasks": [\n${lines(cases)}\n  ]\n },\n`
  + ` "chat_cases": {\n  "moestream-tasks": [\n${lines(chatCases)}\n  ]\n }\n}\n`;
fs.writeFileSync(outFile, out);
console.log(`${cases.length} text cases, ${chatCases.length} chat cases -> ${outFile}`);
