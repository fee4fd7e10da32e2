package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.DType;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code make-test-model --arch gpt_oss}: its options land in config.json under Hugging Face's
 * GptOssConfig names, MXFP4 experts are written as the release stores them, and the engine runs the model.
 */
class MakeTestModelGptOssTest {
  @TempDir Path tmp;

  @Test
  void gptOssOptionsReachTheConfigAndTheModelRuns() throws Exception {
    Path model = tmp.resolve("gpt-oss");
    assertEquals(0, MoestreamCli.execute("make-test-model", "--arch", "gpt_oss", "--output", model.toString(),
        "--num-layers", "4", "--mxfp4", "--sliding-window", "8", "--no-sinks", "--swiglu-limit", "3.5", "--no-yarn"));
    JsonNode c = new ObjectMapper().readTree(model.resolve("config.json").toFile());
    assertEquals("gpt_oss", c.get("model_type").asText());
    assertEquals(8, c.get("sliding_window").asInt());
    assertEquals("sliding_attention", c.get("layer_types").get(2).asText());
    assertEquals("full_attention", c.get("layer_types").get(3).asText());
    assertEquals(3.5, c.get("swiglu_limit").asDouble());
    assertTrue(c.get("rope_scaling").isNull());
    assertEquals("mxfp4", c.get("quantization_config").get("quant_method").asText());
    Checkpoint checkpoint = Checkpoint.open(model);
    assertEquals(DType.U8, checkpoint.require("model.layers.1.mlp.experts.gate_up_proj_blocks").dtype());
    assertEquals(4, checkpoint.require("model.layers.1.mlp.experts.down_proj_blocks").rank());
    assertTrue(checkpoint.find("model.layers.1.mlp.experts.gate_up_proj").isEmpty());
    assertEquals(Float.NEGATIVE_INFINITY, checkpoint.require("model.layers.0.self_attn.sinks").getFloat(0));
    JsonNode logits = new ObjectMapper().readTree(stdout("logits", "--model", model.toString(), "--token-ids", "1,2,3"));
    assertEquals(512, logits.get("logits").get(0).size());
  }

  @Test
  void gptOssOptionsAreRefusedForOtherFamilies() {
    assertNotEquals(0, MoestreamCli.execute("make-test-model", "--arch", "mixtral", "--output",
        tmp.resolve("mixtral").toString(), "--mxfp4"));
    assertNotEquals(0, MoestreamCli.execute("make-test-model", "--arch", "gpt_oss", "--output",
        tmp.resolve("fp8").toString(), "--fp8"));
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
