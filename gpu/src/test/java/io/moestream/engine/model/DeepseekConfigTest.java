package io.moestream.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json of the released DeepSeek-V2-Lite and DeepSeek-V3 checkpoints -> ModelConfig. */
class DeepseekConfigTest {
  @TempDir
  Path folder;

  static final String V2_LITE = """
      {"architectures": ["DeepseekV2ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
       "aux_loss_alpha": 0.001, "bos_token_id": 100000, "eos_token_id": 100001, "first_k_dense_replace": 1,
       "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 10944,
       "kv_lora_rank": 512, "max_position_embeddings": 163840, "model_type": "deepseek_v2",
       "moe_intermediate_size": 1408, "moe_layer_freq": 1, "n_group": 1, "n_routed_experts": 64,
       "n_shared_experts": 2, "norm_topk_prob": false, "num_attention_heads": 16, "num_experts_per_tok": 6,
       "num_hidden_layers": 27, "num_key_value_heads": 16, "pretraining_tp": 1, "q_lora_rank": null,
       "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "rms_norm_eps": 1e-06,
       "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 0.707, "mscale_all_dim": 0.707,
                        "original_max_position_embeddings": 4096, "type": "yarn"},
       "rope_theta": 10000, "routed_scaling_factor": 1.0, "scoring_func": "softmax", "seq_aux": true,
       "tie_word_embeddings": false, "topk_group": 1, "topk_method": "greedy", "torch_dtype": "bfloat16",
       "transformers_version": "4.33.1", "use_cache": true, "v_head_dim": 128, "vocab_size": 102400}
      """;

  static final String V3 = """
      {"architectures": ["DeepseekV3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
       "bos_token_id": 0, "eos_token_id": 1, "ep_size": 1, "first_k_dense_replace": 3, "hidden_act": "silu",
       "hidden_size": 7168, "initializer_range": 0.02, "intermediate_size": 18432, "kv_lora_rank": 512,
       "max_position_embeddings": 163840, "model_type": "deepseek_v3", "moe_intermediate_size": 2048,
       "moe_layer_freq": 1, "n_group": 8, "n_routed_experts": 256, "n_shared_experts": 1, "norm_topk_prob": true,
       "num_attention_heads": 128, "num_experts_per_tok": 8, "num_hidden_layers": 61, "num_key_value_heads": 128,
       "num_nextn_predict_layers": 1, "q_lora_rank": 1536, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
       "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                               "weight_block_size": [128, 128]},
       "rms_norm_eps": 1e-06,
       "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0,
                        "original_max_position_embeddings": 4096, "type": "yarn"},
       "rope_theta": 10000, "routed_scaling_factor": 2.5, "scoring_func": "sigmoid", "tie_word_embeddings": false,
       "topk_group": 4, "topk_method": "noaux_tc", "torch_dtype": "bfloat16", "transformers_version": "4.33.1",
       "use_cache": true, "v_head_dim": 128, "vocab_size": 129280}
      """;

  private ModelConfig read(String json) throws Exception {
    Files.writeString(folder.resolve("config.json"), json);
    return ModelConfig.read(folder);
  }

  @Test
  void v2Lite() throws Exception {
    ModelConfig c = read(V2_LITE);
    assertEquals(Architecture.DEEPSEEK_V2, c.architecture());
    assertEquals(new MlaConfig(0, 512, 128, 64, 128), c.mla());
    assertEquals(192, c.headDim());
    assertFalse(c.isSparse(0));
    assertTrue(c.isSparse(1) && c.isSparse(26));
    assertEquals(64, c.numExperts());
    assertEquals(6, c.numExpertsPerTok());
    assertEquals(2 * 1408, c.sharedExpertIntermediateSize());
    assertFalse(c.sharedExpertGated());
    assertEquals(10944, c.intermediateSize());
    assertEquals(RoutingConfig.Scoring.SOFTMAX, c.routing().scoring());
    assertEquals(RoutingConfig.TopkMethod.GREEDY, c.routing().topkMethod());
    assertEquals(RopeScaling.Type.YARN, c.ropeScaling().type());
    assertEquals(0.707, c.ropeScaling().mscaleAllDim());
    assertNull(c.fp8WeightBlock());
    // The cache holds (kv_lora_rank + qk_rope_head_dim) floats per layer and token, no values.
    assertEquals(576, c.kvKeyWidth());
    assertEquals(0, c.kvValueWidth());
    assertEquals(576L * 27 * Float.BYTES, c.kvCacheBytesPerToken());
  }

  @Test
  void v3() throws Exception {
    ModelConfig c = read(V3);
    assertEquals(Architecture.DEEPSEEK_V3, c.architecture());
    assertEquals(new MlaConfig(1536, 512, 128, 64, 128), c.mla());
    assertFalse(c.isSparse(2));
    assertTrue(c.isSparse(3));
    assertEquals(new RoutingConfig(RoutingConfig.Scoring.SIGMOID, RoutingConfig.TopkMethod.NOAUX_TC, 8, 4, 2.5),
        c.routing());
    assertTrue(c.normTopKProb());
    assertEquals(2048, c.sharedExpertIntermediateSize());
    assertArrayEquals(new int[] {128, 128}, c.fp8WeightBlock());
  }

  @Test
  void moeLayerFrequency() throws Exception {
    ModelConfig c = read(V2_LITE.replace("\"moe_layer_freq\": 1", "\"moe_layer_freq\": 2")
        .replace("\"num_hidden_layers\": 27", "\"num_hidden_layers\": 6"));
    assertArrayEquals(new boolean[] {false, false, true, false, true, false}, c.sparseLayers());
  }

  @Test
  void errorsNameTheField() throws Exception {
    ConfigException bad = assertThrows(ConfigException.class,
        () -> read(V3.replace("\"topk_group\": 4", "\"topk_group\": 9")));
    assertTrue(bad.getMessage().contains("topk_group"), bad.getMessage());
    ConfigException method = assertThrows(ConfigException.class,
        () -> read(V2_LITE.replace("\"greedy\"", "\"sinkhorn\"")));
    assertTrue(method.getMessage().contains("topk_method 'sinkhorn'"), method.getMessage());
    ConfigException quant = assertThrows(ConfigException.class,
        () -> read(V3.replace("\"quant_method\": \"fp8\"", "\"quant_method\": \"awq\"")));
    assertTrue(quant.getMessage().contains("quant_method"), quant.getMessage());
  }
}
