package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/**
 * bench-decode's two workloads, read from its CSV: different random prompts route a batch to more than k experts
 * per layer, while {@code --identical-sequences} (llama-batched-bench's token 0 everywhere) keeps every sequence
 * identical, so each step reads exactly k.
 */
class BenchDecodeWorkloadTest {
  @TempDir static Path dir;
  static Path model;
  static int k;

  @BeforeAll
  static void setUp() throws Exception {
    model = dir.resolve("qwen3");
    TestModelSpec spec = TestModelSpec.defaults(Architecture.QWEN3_MOE);
    TestModelWriter.write(spec, model);
    k = spec.expertsPerToken();
  }

  private static List<String> csvRow(String name, String... more) throws Exception {
    Path csv = dir.resolve(name + ".csv");
    List<String> args = new java.util.ArrayList<>(List.of("bench-decode", "--model", model.toString(), "--batch", "8",
        "--max-new-tokens", "6", "--prompt-tokens", "5", "--warmup-tokens", "2", "--threads", "2", "--kv-cache-mb",
        "4", "--max-batch-tokens", "64", "--csv", csv.toString()));
    args.addAll(List.of(more));
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = MoestreamCli.execute(args.toArray(String[]::new));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    assertEquals(0, code, captured.toString(StandardCharsets.UTF_8));
    List<String> lines = Files.readAllLines(csv);
    assertEquals("batch,experts_per_token,prefill_tok_s,decode_tok_s,distinct_experts_per_layer,decode_weight_gb_s",
        lines.get(0));
    return List.of(lines.get(1).split(","));
  }

  @Test
  void identicalSequencesReadKExpertsAStepWhereDifferentOnesReadMore() throws Exception {
    double distinct = Double.parseDouble(csvRow("different").get(4));
    double identical = Double.parseDouble(csvRow("identical", "--identical-sequences").get(4));
    assertEquals(k, identical, 1e-9, "8 identical sequences route alike");
    assertTrue(distinct > k, "8 different random prompts read " + distinct + " experts per layer, not more than k=" + k);
  }
}
