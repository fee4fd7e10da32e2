package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.kernel.NativeKernels;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
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
 * {@code --weights int8} on the commands: eval-quality's KL against the checkpoint (and with {@code --kernels amx}
 * against the exact kernels), the memory plan, bad values.
 */
class Int8WeightsCliTest {
  @TempDir static Path dir;
  static Path model;
  static Path ids;

  @BeforeAll
  static void setUp() throws Exception {
    model = dir.resolve("qwen3");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE), model); // every projection's cols % 32 == 0
    ids = dir.resolve("ids.txt");
    Files.writeString(ids, "5 17 42 7 99 3 250 11\n400 12 1 0 77 301 5 8");
  }

  private record Captured(int code, String out, String err) {}

  private static Captured run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
    try {
      int code = MoestreamCli.execute(args);
      return new Captured(code, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  private static JsonNode evalQuality(String weights, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("eval-quality", "--model", model.toString(), "--input", ids.toString(),
        "--token-ids-file", "--threads", "2", "--kv-cache-mb", "4", "--weights", weights));
    args.addAll(List.of(more));
    Captured r = run(args.toArray(String[]::new));
    assertEquals(0, r.code, r.out + r.err);
    return new ObjectMapper().readTree(r.out);
  }

  @Test
  void evalQualityMeasuresInt8AgainstTheCheckpoint() throws Exception {
    JsonNode asStored = evalQuality("checkpoint");
    assertEquals(0.0, asStored.get("kl_mean").asDouble());
    assertEquals("checkpoint", asStored.get("weights").asText());
    JsonNode int8 = evalQuality("int8");
    assertEquals("int8", int8.get("weights").asText());
    assertTrue(int8.get("kl_mean").asDouble() > 0, int8.toString());
    assertTrue(int8.get("kl_mean").asDouble() < 0.05, int8.toString());
    assertEquals(asStored.get("ppl_full").asDouble(), int8.get("ppl_full").asDouble(), "the reference is the same");
    assertEquals(15, int8.get("tokens").asInt());
  }

  @Test
  void evalQualityMeasuresTheAmxKernelsAgainstTheExactOnes() throws Exception {
    assumeTrue(NativeKernels.amxAvailable(), () -> "AMX kernels unavailable: " + NativeKernels.amxUnavailableReason());
    JsonNode exact = evalQuality("int8");
    JsonNode amx = evalQuality("int8", "--kernels", "amx");
    assertEquals("amx", amx.get("kernels").asText());
    assertEquals("auto", exact.get("kernels").asText());
    assertEquals(exact.get("ppl_full").asDouble(), amx.get("ppl_full").asDouble(), "the reference runs the exact kernels");
    // the candidate ran other kernels: its distributions moved (by how much on 15 tokens of a random model is noise)
    assertTrue(amx.get("kl_mean").asDouble() != exact.get("kl_mean").asDouble(), amx + " vs " + exact);
    assertTrue(amx.get("kl_mean").asDouble() < 0.05, amx.toString());
  }

  @Test
  void memoryPlanCountsTheInt8Copy() throws Exception {
    JsonNode asStored = memory("checkpoint");
    JsonNode int8 = memory("int8");
    assertEquals(0, asStored.get("weights_int8_bytes").asLong());
    long quantized = int8.get("weights_int8_bytes").asLong();
    long mappedBefore = asStored.get("weights_mapped_bytes").get("total").asLong();
    long mappedAfter = int8.get("weights_mapped_bytes").get("total").asLong();
    // F32 test model: the projections' 4 bytes a value leave the mapping, 1.125 bytes a value come in memory.
    assertEquals((mappedBefore - mappedAfter) / 4 * 1.125, quantized, 0.0);
    assertEquals(0, asStored.get("weights_mapped_bytes").get("routers").asLong()
        - int8.get("weights_mapped_bytes").get("routers").asLong(), "routers stay mapped");
    Captured table = run("model-info", "--model", model.toString(), "--memory", "--kv-cache-mb", "4",
        "--weights", "int8");
    assertTrue(table.out.contains("Q8_0 codes + scales"), table.out);
  }

  private static JsonNode memory(String weights) throws Exception {
    Captured r = run("model-info", "--model", model.toString(), "--memory", "--json", "--kv-cache-mb", "4",
        "--weights", weights);
    assertEquals(0, r.code, r.out + r.err);
    return new ObjectMapper().readTree(r.out).get("memory");
  }

  @Test
  void anUnknownValueIsNamed() {
    Captured r = run("generate", "--model", model.toString(), "--token-ids", "1,2", "--weights", "int4");
    assertTrue(r.code != 0);
    assertTrue(r.err.contains("--weights must be 'checkpoint' or 'int8', found 'int4'"), r.err);
  }
}
