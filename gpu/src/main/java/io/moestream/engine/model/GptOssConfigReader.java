package io.moestream.engine.model;

/**
 * config.json of {@code gpt_oss} (OpenAI's gpt-oss-20b / 120b; the fields of Hugging Face's GptOssConfig)
 * -> {@link ModelConfig}. Differences from the other grouped-query families:
 *
 * <ul>
 *   <li>{@code layer_types} alternates {@code sliding_attention} ({@code sliding_window}, 128 in the
 *       releases) and {@code full_attention}; every head has a learned attention sink
 *       ({@code self_attn.sinks}), one extra logit in its softmax's denominator.
 *   <li>q/k/v/o projections all have biases ({@code attention_bias}); RoPE is YaRN ({@code rope_scaling}
 *       with {@code truncate: false} in the releases).
 *   <li>Every layer is sparse: {@code num_local_experts} experts of {@code intermediate_size}, a router with
 *       a bias, top-{@code num_experts_per_tok} of the logits and a softmax over those k, which is
 *       a softmax over all experts renormalized over the chosen ones.
 *   <li>Experts are stacked per layer: {@code gate_up_proj} (gate and up interleaved by column) and
 *       {@code down_proj} with biases, and the clamped SwiGLU ({@code swiglu_limit}, alpha 1.702);
 *       in BF16 ({@code (numExperts, in, out)}) or MXFP4 ({@code *_blocks} / {@code *_scales},
 *       {@code quantization_config.quant_method: mxfp4}).
 * </ul>
 */
final class GptOssConfigReader {
  /** GptOssExperts' alpha: fixed in Hugging Face's and OpenAI's code, not a config field. */
  static final double SWIGLU_ALPHA = 1.702;

  private GptOssConfigReader() {}

  static ModelConfig read(ConfigJson json) {
    String file = json.file();
    int hiddenSize = json.requireInt("hidden_size");
    int numLayers = json.requireInt("num_hidden_layers");
    int numHeads = json.requireInt("num_attention_heads");
    int numKvHeads = json.optInt("num_key_value_heads", numHeads);
    int headDim = json.optInt("head_dim", numHeads > 0 ? hiddenSize / numHeads : 0);
    int numExperts = json.requireInt("num_local_experts");
    int inter = json.requireInt("intermediate_size");
    int topK = json.has("num_experts_per_tok") ? json.requireInt("num_experts_per_tok")
        : json.requireInt("experts_per_token");
    double limit = json.optDouble("swiglu_limit", 7.0);
    if (!(limit > 0)) {
      throw new ConfigException(file + ": swiglu_limit must be > 0, found " + limit);
    }
    boolean[] sparse = new boolean[Math.max(numLayers, 0)];
    java.util.Arrays.fill(sparse, true);
    int[] windows = json.has("layer_types") ? SlidingWindows.fromLayerTypes(json, numLayers)
        : alternating(json, numLayers);
    if (json.has("quantization_config")) {
      String method = json.node("quantization_config").path("quant_method").asText("");
      if (!method.equals("mxfp4")) {
        throw new ConfigException(file + ": quantization_config.quant_method '" + method
            + "' is not supported for gpt_oss (mxfp4)");
      }
    }
    return new ModelConfig(Architecture.GPT_OSS, json.requireInt("vocab_size"), hiddenSize, numLayers, numHeads,
        numKvHeads, headDim, inter, numExperts, topK, inter, true, 0, false, sparse, ModelConfig.QkNorm.NONE,
        json.optBoolean("attention_bias", true), Double.NaN, (float) json.optDouble("rms_norm_eps", 1e-5),
        json.optDouble("rope_theta", 150000.0), RopeScaling.parse(json.node("rope_scaling"), file),
        json.optInt("max_position_embeddings", 131072), json.optBoolean("tie_word_embeddings", false),
        json.optIntOrList("eos_token_id"), json.has("torch_dtype") ? json.requireString("torch_dtype") : "unknown",
        null, RoutingConfig.SOFTMAX_TOP_K, null, headDim, windows, new ModelConfig.ClampedSwiglu(limit, SWIGLU_ALPHA));
  }

  /** GptOssConfig's default without layer_types: sliding, full, sliding, full, ... */
  private static int[] alternating(ConfigJson json, int numLayers) {
    int window = json.optInt("sliding_window", 128);
    int[] windows = new int[Math.max(numLayers, 0)];
    for (int layer = 0; layer < windows.length; layer += 2) {
      windows[layer] = window;
    }
    return windows;
  }
}
