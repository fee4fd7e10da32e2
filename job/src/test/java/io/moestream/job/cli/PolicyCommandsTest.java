package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** profile-experts, eval-quality, bench-load and --policy end to end on a tiny random model. */
class PolicyCommandsTest {
  @TempDir
  static Path dir;
  static Path model;
  static Path ids;

  @BeforeAll
  static void setUp() throws Exception {
    model = dir.resolve("m");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 4, 16), model);
    ids = dir.resolve("ids.txt");
    Files.writeString(ids, "5 17 42 7 99 3 250 11\n400 12 1 0 77 301 5 8");
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
    String text = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, String.join(" ", args) + "\n" + text);
    return text;
  }

  private static JsonNode evalQuality(String... extra) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("eval-quality", "--model", model.toString(), "--input-token-ids",
        ids.toString(), "--threads", "2", "--kv-cache-mb", "4"));
    args.addAll(List.of(extra));
    return new ObjectMapper().readTree(run(args.toArray(String[]::new)));
  }

  @Test
  void evalQualityOfTheFullModelAgainstItselfIsExact() throws Exception {
    for (String policy : new String[] {"fixed:4", "adaptive", "batch:4,0.5"}) {
      JsonNode r = evalQuality("--policy", policy);
      assertEquals(0.0, r.get("kl_mean").asDouble(), policy);
      assertEquals(0.0, r.get("kl_p95").asDouble(), policy);
      assertEquals(1.0, r.get("top1_agreement").asDouble(), policy);
      assertEquals(r.get("ppl_full").asDouble(), r.get("ppl_policy").asDouble(), policy);
      assertEquals(15, r.get("tokens").asInt());
    }
  }

  @Test
  void fewerExpertsOrPrunedExpertsDiverge() throws Exception {
    JsonNode fewer = evalQuality("--policy", "fixed:1");
    assertTrue(fewer.get("kl_mean").asDouble() > 0);
    assertEquals(1.0, fewer.get("experts_per_token").asDouble());
    Path profile = dir.resolve("profile.json");
    run("profile-experts", "--model", model.toString(), "--input-token-ids", ids.toString(), "--output",
        profile.toString(), "--threads", "2", "--kv-cache-mb", "4");
    JsonNode pruned = evalQuality("--prune-experts", "4", "--expert-profile", profile.toString());
    assertTrue(pruned.get("kl_mean").asDouble() > 0);
    assertEquals(4, pruned.get("prune_experts").asInt());
    JsonNode notPruned = evalQuality("--prune-experts", "8", "--expert-profile", profile.toString());
    assertEquals(0.0, notPruned.get("kl_mean").asDouble());
  }

  @Test
  void benchLoadWritesCsvMarkdownAndChart() throws Exception {
    Path csv = dir.resolve("load.csv");
    Path png = dir.resolve("load.png");
    String table = run("bench-load", "--model", model.toString(), "--concurrency", "1,2", "--prompt-tokens", "4",
        "--max-new-tokens", "3", "--warmup-tokens", "2", "--policies", "fixed:2,schedule:1,4,4,2,adaptive", "--threads", "2",
        "--kv-cache-mb", "4", "--csv", csv.toString(), "--chart", png.toString());
    List<String> lines = Files.readAllLines(csv);
    assertEquals("policy,concurrency,throughput_tok_s,gain_vs_full", lines.get(0));
    assertEquals(1 + 2 * 4, lines.size(), "fixed:4 (the full model) is measured too"); // 4 policies x 2 concurrencies
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("fixed:4,1,") && l.endsWith(",0.0000")));
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("\"schedule:1,4,4,2\",2,")));
    assertTrue(table.contains("| `adaptive` |"), table);
    assertTrue(Files.size(png) > 1000);
  }

  @Test
  void generateAndLogitsTakeAPolicy() {
    String fixed = run("generate", "--model", model.toString(), "--token-ids", "5,17,42", "--max-new-tokens", "4",
        "--policy", "fixed:2", "--threads", "2", "--kv-cache-mb", "4");
    String shorthand = run("generate", "--model", model.toString(), "--token-ids", "5,17,42", "--max-new-tokens", "4",
        "--experts-per-token", "2", "--threads", "2", "--kv-cache-mb", "4");
    assertEquals(fixed, shorthand);
    String full = run("logits", "--model", model.toString(), "--token-ids", "5,17,42", "--threads", "2", "--kv-cache-mb", "4");
    String adaptive = run("logits", "--model", model.toString(), "--token-ids", "5,17,42", "--policy", "adaptive",
        "--threads", "2", "--kv-cache-mb", "4");
    assertEquals(full, adaptive);
    assertTrue(MoestreamCli.execute("logits", "--model", model.toString(), "--token-ids", "1", "--policy", "fixed:2",
        "--experts-per-token", "2") != 0, "--policy and --experts-per-token together are refused");
  }
}
