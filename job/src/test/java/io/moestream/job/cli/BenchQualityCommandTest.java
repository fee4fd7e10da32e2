package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.job.pipeline.DemoModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench-quality end to end on a random-weight Qwen3-MoE with the real Qwen3 tokenizer (8 experts, top
 * 4): the answers are meaningless, the mechanics are not.
 */
class BenchQualityCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] TASKS = {"add", "copy", "recall"};

  @TempDir static Path dir;
  static Path model;
  static Path tasks;
  static Path text;

  @BeforeAll
  static void setUp() throws Exception {
    model = DemoModel.write(DemoModel.spec().withExperts(8, 4, 16), dir.resolve("m"));
    tasks = dir.resolve("tasks.jsonl");
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      for (String task : TASKS) { // interleaved: items are taken per task in file order
        lines.add(item(task, "Item " + i + " of " + task + ": what comes next?", "answer " + i));
      }
    }
    Files.write(tasks, lines);
    text = dir.resolve("text.txt");
    Files.writeString(text, "The quick brown fox jumps over the lazy dog. Experts route tokens; fewer experts cost"
        + " quality. A held-out paragraph is never trained on, so its perplexity measures the model.");
  }

  private static String item(String task, String prompt, String answer) {
    ObjectNode node = JSON.createObjectNode();
    node.put("task", task);
    node.put("prompt", prompt);
    node.put("answer", answer);
    return node.toString();
  }

  /** Runs a command line; returns its stdout (the exit code must be 0). */
  private static String run(String... args) {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = MoestreamCli.execute(args);
    } finally {
      System.setOut(saved);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, String.join(" ", args) + "\n" + printed);
    return printed;
  }

  private static List<String> benchQuality(Path tasksFile, String... extra) {
    List<String> args = new ArrayList<>(List.of("bench-quality", "--model", model.toString(), "--tasks",
        tasksFile.toString(), "--items-per-task", "2", "--max-new-tokens", "4", "--threads", "2", "--kv-cache-mb", "8"));
    args.addAll(List.of(extra));
    return List.of(run(args.toArray(String[]::new)).strip().split("\n"));
  }

  private static List<JsonNode> readLines(Path file) throws Exception {
    List<JsonNode> nodes = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      nodes.add(JSON.readTree(line));
    }
    return nodes;
  }

  @Test
  void answersDoNotDependOnTheBatch() throws Exception {
    Path one = dir.resolve("answers-1.jsonl");
    Path four = dir.resolve("answers-4.jsonl");
    benchQuality(tasks, "--policies", "full,fixed:1", "--batch", "1", "--answers", one.toString());
    benchQuality(tasks, "--policies", "full,fixed:1", "--batch", "4", "--answers", four.toString());
    List<JsonNode> batchOne = readLines(one);
    assertEquals(2 * TASKS.length * 2, batchOne.size(), "2 rows x 3 tasks x 2 items");
    assertTrue(batchOne.stream().map(a -> a.get("output")).distinct().count() > 1,
        "the items answer differently, so a mix-up between them would show");
    assertEquals(batchOne, readLines(four));
    List<String> fullOutputs = batchOne.subList(0, 6).stream().map(a -> a.get("output").asText()).toList();
    List<String> fewerOutputs = batchOne.subList(6, 12).stream().map(a -> a.get("output").asText()).toList();
    assertNotEquals(fullOutputs, fewerOutputs, "fixed:1 answers differently from the full model");
  }

  @Test
  void rowsCountWhatTheyScoreAndCompareTheTextWithTheFullModel() throws Exception {
    Path profile = dir.resolve("profile.json");
    run("profile-experts", "--model", model.toString(), "--input", text.toString(), "--output", profile.toString(),
        "--threads", "2", "--kv-cache-mb", "8");
    Path answers = dir.resolve("answers.jsonl");
    benchQuality(tasks, "--answers", answers.toString(), "--policies", "full");
    // The same tasks, with the full model's own output as the answer of two items (one add, one recall):
    // those two, and only those, must score
    List<JsonNode> outputs = readLines(answers);
    List<String> lines = Files.readAllLines(tasks);
    for (int index : new int[] {0, 5}) {
      JsonNode answer = outputs.get(index);
      int line = answer.get("line").asInt();
      JsonNode original = JSON.readTree(lines.get(line - 1));
      lines.set(line - 1, item(original.get("task").asText(), original.get("prompt").asText(),
          answer.get("output").asText().strip()));
    }
    Path rigged = dir.resolve("tasks-rigged.jsonl");
    Files.write(rigged, lines);
    Path json = dir.resolve("quality.json");
    Path markdown = dir.resolve("quality.md");
    assertEquals(List.of(""), benchQuality(rigged, "--policies", "full,fixed:1", "--prune-experts", "4,8",
        "--expert-profile", profile.toString(), "--text", text.toString(), "--window", "16", "--json", json.toString(),
        "--markdown", markdown.toString()), "with --json nothing goes to stdout");

    JsonNode report = JSON.readTree(json.toFile());
    JsonNode rows = report.get("rows");
    assertEquals(List.of("full", "fixed:1", "prune:4", "prune:8"),
        List.of(rows.get(0).get("row").asText(), rows.get(1).get("row").asText(), rows.get(2).get("row").asText(),
            rows.get(3).get("row").asText()));
    JsonNode full = rows.get(0);
    assertEquals(List.of(TASKS), iterate(full.get("tasks").fieldNames()));
    assertEquals(1, full.get("tasks").get("add").get("correct").asInt());
    assertEquals(0, full.get("tasks").get("copy").get("correct").asInt());
    assertEquals(1, full.get("tasks").get("recall").get("correct").asInt());
    JsonNode add = full.get("tasks").get("add");
    assertEquals(2, add.get("items").asInt());
    assertEquals(0.5, add.get("accuracy").asDouble());
    assertEquals(0.095, add.get("wilson95").get(0).asDouble(), 5e-4); // Wilson 1/2
    assertEquals(0.905, add.get("wilson95").get(1).asDouble(), 5e-4);
    assertEquals(2, full.get("overall").get("correct").asInt());
    assertEquals(6, full.get("overall").get("items").asInt());
    assertEquals(4.0, full.get("experts_per_token").asDouble());
    assertEquals(1.0, rows.get(1).get("experts_per_token").asDouble());
    assertTrue(full.get("generated_tokens").asInt() >= 6 && full.get("generated_tokens").asInt() <= 24);

    // the text: the full model against itself is exact, fewer experts or pruning are not
    assertEquals(0.0, full.get("kl_mean").asDouble());
    assertEquals(1.0, full.get("top1_agreement").asDouble());
    assertTrue(rows.get(1).get("kl_mean").asDouble() > 0);
    assertTrue(rows.get(2).get("kl_mean").asDouble() > 0);
    assertEquals(0.0, rows.get(3).get("kl_mean").asDouble(), "keeping all 8 experts is the full model");
    assertEquals(full.get("ppl").asDouble(), rows.get(3).get("ppl").asDouble());
    assertEquals(4, rows.get(2).get("prune_experts").asInt());
    assertEquals("full", rows.get(2).get("policy").asText());
    assertTrue(full.get("prune_experts").isNull());
    assertEquals(full.get("text_tokens").asInt(), rows.get(1).get("text_tokens").asInt());

    String table = Files.readString(markdown);
    assertTrue(table.contains("| `fixed:1` | 1.00 |"), table);
    assertTrue(table.contains("0.500 [0.095, 0.905]"), table);
  }

  @Test
  void withoutTextTheTextMetricsAreNullAndRowsGoToStdout() throws Exception {
    List<String> printed = benchQuality(tasks, "--policies", "fixed:2,adaptive");
    assertEquals(2, printed.size(), String.join("\n", printed));
    JsonNode adaptive = JSON.readTree(printed.get(1));
    assertEquals("adaptive", adaptive.get("row").asText());
    assertEquals(4.0, adaptive.get("experts_per_token").asDouble(), "adaptive with no load is the full model");
    assertTrue(adaptive.get("kl_mean").isNull());
    assertTrue(adaptive.get("ppl").isNull());
  }

  @Test
  void aBadTasksLineFailsNamingFileLineAndField() throws Exception {
    Path bad = dir.resolve("bad.jsonl");
    Files.write(bad, List.of(item("add", "What is 1 + 2?", "3"), "{\"task\": \"add\", \"prompt\": \"What is 2 + 2?\"}"));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = MoestreamCli.execute("bench-quality", "--model", model.toString(), "--tasks", bad.toString());
    } finally {
      System.setErr(saved);
    }
    assertEquals(1, code);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains(bad + ":2: missing \"answer\""), err.toString());
  }

  private static List<String> iterate(java.util.Iterator<String> names) {
    List<String> list = new ArrayList<>();
    names.forEachRemaining(list::add);
    return list;
  }
}
