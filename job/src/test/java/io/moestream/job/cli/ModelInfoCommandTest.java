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
    assertEquals(0, MoestreamCli.execute("make-test-model", "--arch", "deepseek_v2", "--output", model.toString(),
        "--num-layers", "27", "--hidden-size", "64", "--num-heads", "2", "--kv-lora-rank", "512", "--q-lora-rank", "0",
        "--qk-nope-head-dim", "16", "--qk-rope-head-dim", "64", "--v-head-dim", "16", "--num-experts", "4",
        "--experts-per-token", "2", "--moe-intermediate-size", "16", "--intermediate-size", "32", "--vocab-size", "64"));
    JsonNode info = new ObjectMapper().readTree(stdout("model-info", "--model", model.toString()));
    assertEquals("multi-head latent", info.get("attention").asText());
    assertEquals((512 + 64) * 27 * 4, info.get("kv_cache_bytes_per_token").asLong());
    assertEquals(0, info.get("kv_cache_value_floats_per_layer").asInt());
    assertEquals(2, info.get("decode_weight_bytes_per_token").size());
  }

  /** {@code make-test-model --fp8} on a non-DeepSeek family writes a model the engine loads and runs. */
  @Test
  void fp8Qwen3TestModelRuns() throws Exception {
    Path model = tmp.resolve("qwen3-fp8");
    assertEquals(0, MoestreamCli.execute("make-test-model", "--arch", "qwen3_moe", "--fp8", "--output", model.toString()));
    String config = java.nio.file.Files.readString(model.resolve("config.json"));
    assertEquals(true, config.contains("\"quant_method\" : \"fp8\""), config);
    JsonNode logits = new ObjectMapper().readTree(stdout("logits", "--model", model.toString(), "--token-ids", "1,2,3"));
    assertEquals(512, logits.get("logits").get(0).size());
  }

  /** The released DeepSeek-V2-Lite config.json alone: 512 + 64 floats x 27 layers x 4 bytes = 62,208. */
  @Test
  void configOnlyFolderOfDeepseekV2Lite() throws Exception {
    Path folder = tmp.resolve("v2-lite-config");
    java.nio.file.Files.createDirectories(folder);
    java.nio.file.Files.writeString(folder.resolve("config.json"), """
        {"architectures": ["DeepseekV2ForCausalLM"], "bos_token_id": 100000, "eos_token_id": 100001,
         "first_k_dense_replace": 1, "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 10944,
         "kv_lora_rank": 512, "max_position_embeddings": 163840, "model_type": "deepseek_v2",
         "moe_intermediate_size": 1408, "moe_layer_freq": 1, "n_group": 1, "n_routed_experts": 64,
         "n_shared_experts": 2, "norm_topk_prob": false, "num_attention_heads": 16, "num_experts_per_tok": 6,
         "num_hidden_layers": 27, "num_key_value_heads": 16, "q_lora_rank": null, "qk_nope_head_dim": 128,
         "qk_rope_head_dim": 64, "rms_norm_eps": 1e-06,
         "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 0.707, "mscale_all_dim": 0.707,
                          "original_max_position_embeddings": 4096, "type": "yarn"},
         "rope_theta": 10000, "routed_scaling_factor": 1.0, "scoring_func": "softmax", "topk_group": 1,
         "topk_method": "greedy", "torch_dtype": "bfloat16", "v_head_dim": 128, "vocab_size": 102400}
        """);
    JsonNode info = new ObjectMapper().readTree(stdout("model-info", "--model", folder.toString()));
    assertEquals(62_208, info.get("kv_cache_bytes_per_token").asLong());
    assertEquals(576, info.get("kv_cache_key_floats_per_layer").asInt());
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
