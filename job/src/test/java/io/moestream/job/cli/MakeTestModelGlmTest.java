package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.format.Checkpoint;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code make-test-model --arch glm4_moe}: its options land in config.json under Hugging Face's
 * Glm4MoeConfig names, the MTP layers asked for are in the checkpoint, and the engine runs the model.
 */
class MakeTestModelGlmTest {
  @TempDir Path tmp;

  @Test
  void glmOptionsReachTheConfigAndTheModelRuns() throws Exception {
    Path model = tmp.resolve("glm");
    assertEquals(0, MoestreamCli.execute("make-test-model", "--arch", "glm4_moe", "--output", model.toString(),
        "--num-layers", "4", "--partial-rotary-factor", "0.25", "--qk-norm", "--no-attention-bias",
        "--n-shared-experts", "0", "--first-k-dense-replace", "2", "--n-group", "4", "--topk-group", "2",
        "--routed-scaling-factor", "1.5", "--nextn-layers", "2", "--fp8"));
    JsonNode c = new ObjectMapper().readTree(model.resolve("config.json").toFile());
    assertEquals("glm4_moe", c.get("model_type").asText());
    assertEquals(0.25, c.get("partial_rotary_factor").asDouble());
    assertTrue(c.get("use_qk_norm").asBoolean());
    assertEquals(false, c.get("attention_bias").asBoolean());
    assertEquals(0, c.get("n_shared_experts").asInt());
    assertEquals(2, c.get("first_k_dense_replace").asInt());
    assertEquals(4, c.get("n_group").asInt());
    assertEquals(2, c.get("topk_group").asInt());
    assertEquals(1.5, c.get("routed_scaling_factor").asDouble());
    assertEquals(2, c.get("num_nextn_predict_layers").asInt());
    assertEquals("fp8", c.get("quantization_config").get("quant_method").asText());
    Checkpoint checkpoint = Checkpoint.open(model);
    for (String tensor : new String[] {"model.layers.4.eh_proj.weight", "model.layers.5.enorm.weight",
        "model.layers.5.mlp.gate.e_score_correction_bias", "model.layers.0.self_attn.q_norm.weight",
        "model.layers.0.mlp.gate_proj.weight", "model.layers.2.mlp.experts.7.down_proj.weight_scale_inv"}) {
      assertTrue(checkpoint.find(tensor).isPresent(), tensor);
    }
    assertTrue(checkpoint.find("model.layers.2.mlp.shared_experts.gate_proj.weight").isEmpty());
    assertTrue(checkpoint.find("model.layers.0.self_attn.q_proj.bias").isEmpty());
    JsonNode logits = new ObjectMapper().readTree(stdout("logits", "--model", model.toString(), "--token-ids", "1,2,3"));
    assertEquals(512, logits.get("logits").get(0).size());
  }

  @Test
  void glmOptionsAreRefusedForOtherFamilies() {
    assertNotEquals(0, MoestreamCli.execute("make-test-model", "--arch", "qwen3_moe", "--output",
        tmp.resolve("qwen").toString(), "--partial-rotary-factor", "0.5"));
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
