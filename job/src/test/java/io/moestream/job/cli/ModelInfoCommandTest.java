package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code model-info} on a DeepSeek-V2-Lite-shaped test model (its attention widths and 27 layers, tiny
 * elsewhere): the KV cache per token is (kv_lora_rank + qk_rope_head_dim) x layers x 4 bytes, the
 * latent and the shared rotated key, not expanded keys and values.
 */
class ModelInfoCommandTest {
  @TempDir Path tmp;

  @Test
  void kvCacheBytesPerTokenOfTheV2LiteShape() throws Exception {
    Path model = tmp.resolve("v2lite-shape");
    assertEquals(0, MoestreamCli.execute("make-test-model", "--arch", "deepseek_v2", "--out", model.toString(),
        "--num-layers", "27", "--hidden-size", "64", "--num-heads", "2", "--kv-lora-rank", "512", "--q-lora-rank", "0",
        "--qk-nope-head-dim", "16", "--qk-rope-head-dim", "64", "--v-head-dim", "16", "--num-experts", "4",
        "--experts-per-token", "2", "--moe-intermediate-size", "16", "--intermediate-size", "32", "--vocab-size", "64"));
    JsonNode info = new ObjectMapper().readTree(stdout("model-info", "--model", model.toString()));
    assertEquals("multi-head latent", info.get("attention").asText());
    assertEquals((512 + 64) * 27 * 4, info.get("kv_cache_bytes_per_token").asLong());
    assertEquals(0, info.get("kv_cache_value_floats_per_layer").asInt());
    assertEquals(2, info.get("decode_weight_bytes_per_token").size());
  }

  private static String stdout(String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, MoestreamCli.execute(args));
    } finally {
      System.setOut(original);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }
}
