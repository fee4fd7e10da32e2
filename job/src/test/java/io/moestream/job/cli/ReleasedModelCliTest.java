package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code make-test-model --from-config --shape-only} on Qwen3-235B-A22B's released config.json (the gpu
 * module's test resources), then the real {@code model-info} in a child JVM with a 256 MB heap: 470 GB of
 * BF16 tensors in 95 sparse shards mapped, checked and counted.
 */
class ReleasedModelCliTest {
  private static final Path QWEN3_235B = Path.of("../gpu/src/test/resources/released-configs/qwen3-235b-a22b/config.json");

  @TempDir Path tmp;

  @Test
  void modelInfoOfAShapeOnlyReleaseInABoundedHeap() throws Exception {
    assertTrue(Files.isRegularFile(QWEN3_235B), QWEN3_235B.toAbsolutePath() + " (run from the job module)");
    Path model = tmp.resolve("qwen3-235b-a22b");
    PrintStream originalErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, MoestreamCli.execute("make-test-model", "--from-config", QWEN3_235B.toString(), "--shape-only",
          "--output", model.toString()));
    } finally {
      System.setErr(originalErr);
    }
    String summary = err.toString(StandardCharsets.UTF_8);
    assertTrue(summary.contains("36,945 tensors in 95 shards") && summary.contains("on disk"), summary);

    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(List.of(java, "-Xmx256m", "--add-modules=jdk.incubator.vector",
        "-cp", System.getProperty("java.class.path"), MoestreamCli.class.getName(), "model-info", "--model",
        model.toString())).redirectError(tmp.resolve("child.err").toFile()).start();
    String stdout = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(child.waitFor(120, TimeUnit.SECONDS), "model-info did not finish in 120 s");
    assertEquals(0, child.exitValue(), stdout + Files.readString(tmp.resolve("child.err")));
    JsonNode info = new ObjectMapper().readTree(stdout);
    assertEquals("qwen3_moe", info.get("model_type").asText());
    assertEquals(94, info.get("layers").asInt());
    assertEquals(128, info.get("routed_experts").asInt());
    assertEquals(235_093_634_560L, info.get("parameters").asLong());
    assertEquals(8, info.get("decode_weight_bytes_per_token").size());

    // the memory plan of 470 GB of BF16 weights on this machine: refused at once, with the numbers
    Process plan = new ProcessBuilder(List.of(java, "-Xmx256m", "--add-modules=jdk.incubator.vector",
        "-cp", System.getProperty("java.class.path"), MoestreamCli.class.getName(), "model-info", "--model",
        model.toString(), "--memory", "--kv-cache-mb", "64")).redirectErrorStream(true).start();
    String table = new String(plan.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(plan.waitFor(120, TimeUnit.SECONDS), "model-info --memory did not finish in 120 s");
    assertEquals(1, plan.exitValue(), table);
    assertTrue(table.contains("DOES NOT FIT") && table.contains("--allow-weights-over-ram"), table);
    assertTrue(table.contains("total mapped                                  470,187,269,120 B"), "the weights' bytes are stated: " + table);
    assertTrue(!table.contains("OutOfMemoryError"), table);
  }
}
