package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code model-info --memory}, and an engine command that fails at once when its KV cache cannot fit the heap. */
class ModelInfoMemoryTest {
  @TempDir Path tmp;
  private Path model;

  @BeforeEach
  void writeModel() {
    model = tmp.resolve("qwen3");
    assertEquals(0, MoestreamCli.execute("make-test-model", "--arch", "qwen3_moe", "--output", model.toString()));
  }

  @Test
  void tableAndVerdict() {
    Captured run = run("model-info", "--model", model.toString(), "--memory", "--kv-cache-mb", "8",
        "--max-batch-tokens", "64");
    assertEquals(0, run.code, run.out);
    assertTrue(run.out.contains("KV cache: 1024 blocks x 16 = 16384 tokens"), run.out); // 8 MiB / (512 B x 16 tokens)
    assertTrue(run.out.contains("8,388,608 B"), run.out);
    assertTrue(run.out.contains("step scratch at 64 tokens"), run.out);
    assertTrue(run.out.contains("verdict: fits"), run.out);
  }

  @Test
  void jsonHasTheSameNumbers() throws Exception {
    Captured run = run("model-info", "--model", model.toString(), "--memory", "--json", "--kv-cache-mb", "8");
    assertEquals(0, run.code, run.out);
    JsonNode memory = new ObjectMapper().readTree(run.out).get("memory");
    assertEquals(8L << 20, memory.get("kv_cache").get("bytes").asLong());
    assertEquals(512, memory.get("kv_cache").get("bytes_per_token").asLong());
    assertEquals(memory.get("weights_heap_copied_bytes").asLong() + (8L << 20)
        + memory.get("step_scratch").get("bytes").asLong(), memory.get("heap_bytes").asLong());
    assertTrue(memory.get("fits").asBoolean());
  }

  /** A KV cache larger than the heap: exit code 1 and the problem named, in the table and in JSON. */
  @Test
  void doesNotFitGivesExitCodeOne() throws Exception {
    long tooMuch = (Runtime.getRuntime().maxMemory() >> 20) + 256;
    Captured table = run("model-info", "--model", model.toString(), "--memory", "--kv-cache-mb", Long.toString(tooMuch));
    assertEquals(1, table.code, table.out);
    assertTrue(table.out.contains("verdict: DOES NOT FIT"), table.out);
    assertTrue(table.out.contains("problem: heap: the engine needs"), table.out);
    Captured json = run("model-info", "--model", model.toString(), "--memory", "--json", "--kv-cache-mb",
        Long.toString(tooMuch));
    assertEquals(1, json.code);
    assertFalse(new ObjectMapper().readTree(json.out).get("memory").get("fits").asBoolean());
  }

  /**
   * {@code logits} in a JVM of 64 MiB heap with a 256 MiB KV cache: it fails at once with the plan's numbers,
   * never reaching an OutOfMemoryError.
   */
  @Test
  void engineCommandFailsAtOnceInASmallHeap() throws Exception {
    Path log = tmp.resolve("child.log");
    List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
        MoestreamCli.class.getName(), "logits", "--model", model.toString(), "--token-ids", "1,2,3",
        "--kv-cache-mb", "256");
    Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
    String output = Files.readString(log);
    assertEquals(1, child.exitValue(), output);
    assertTrue(output.contains("moestream logits: error: the model does not fit in memory (nothing was allocated)"),
        output);
    assertTrue(output.contains("KV cache 268,435,456 B (0.25 GiB)"), output);
    assertTrue(output.contains("--kv-cache-mb"), output);
    assertFalse(output.contains("OutOfMemoryError"), output);
  }

  private record Captured(int code, String out) {}

  private static Captured run(String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      int code = MoestreamCli.execute(args);
      return new Captured(code, captured.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(original);
    }
  }
}
