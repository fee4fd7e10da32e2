package io.moestream.engine.model;

/**
 * config.json of {@code deepseek_v2} / {@code deepseek_v3} (the fields of Hugging Face's DeepseekV2Config
 * and DeepseekV3Config) -> {@link ModelConfig}. Layer {@code l} has experts when
 * {@code l >= first_k_dense_replace} and {@code l % moe_layer_freq == 0}.
 */
final class DeepseekConfigReader {
  private DeepseekConfigReader() {}

  static ModelConfig read(ConfigJson json, Architecture arch) {
    boolean v3 = arch == Architecture.DEEPSEEK_V3;
    String file = json.file();
    int hiddenSize = json.requireInt("hidden_size");
    int numLayers = json.requireInt("num_hidden_layers");
    int numHeads = json.requireInt("num_attention_heads");
    int numKvHeads = json.optInt("num_key_value_heads", numHeads);
    MlaConfig mla = new MlaConfig(json.optInt("q_lora_rank", 0), json.requireInt("kv_lora_rank"),
        json.requireInt("qk_nope_head_dim"), json.requireInt("qk_rope_head_dim"), json.requireInt("v_head_dim"));

    int numExperts = json.optInt("n_routed_experts", 0);
    int moeIntermediate = numExperts > 0 ? json.requireInt("moe_intermediate_size") : 0;
    int sharedIntermediate = moeIntermediate * json.optInt("n_shared_experts", 0);
    int firstDense = json.optInt("first_k_dense_replace", 0);
    int layerFreq = json.optInt("moe_layer_freq", 1);
    if (layerFreq < 1) {
      throw new ConfigException(file + ": moe_layer_freq must be >= 1, found " + layerFreq);
    }
    boolean[] sparse = new boolean[Math.max(numLayers, 0)];
    for (int layer = 0; layer < sparse.length; layer++) {
      sparse[layer] = numExperts > 0 && layer >= firstDense && layer % layerFreq == 0;
    }

    String scoring = json.has("scoring_func") ? json.requireString("scoring_func") : v3 ? "sigmoid" : "softmax";
    String topkMethod = json.has("topk_method") ? json.requireString("topk_method") : v3 ? "noaux_tc" : "greedy";
    RoutingConfig routing = new RoutingConfig(
        switch (scoring) {
          case "softmax" -> RoutingConfig.Scoring.SOFTMAX;
          case "sigmoid" -> RoutingConfig.Scoring.SIGMOID;
          default -> throw new ConfigException(file + ": scoring_func '" + scoring + "' is not supported (softmax, sigmoid)");
        },
        switch (topkMethod) {
          case "greedy" -> RoutingConfig.TopkMethod.GREEDY;
          case "group_limited_greedy" -> RoutingConfig.TopkMethod.GROUP_LIMITED_GREEDY;
          case "noaux_tc" -> RoutingConfig.TopkMethod.NOAUX_TC;
          default -> throw new ConfigException(file + ": topk_method '" + topkMethod
              + "' is not supported (greedy, group_limited_greedy, noaux_tc)");
        },
        json.optInt("n_group", 1), json.optInt("topk_group", 1), json.optDouble("routed_scaling_factor", 1.0));

    if (json.optBoolean("attention_bias", false)) {
      throw new ConfigException(file + ": attention_bias true is not supported for " + arch.modelType()
          + " (the released checkpoints have no attention biases)");
    }
    int[] eos = json.optIntOrList("eos_token_id");
    return new ModelConfig(arch, json.requireInt("vocab_size"), hiddenSize, numLayers, numHeads, numKvHeads,
        mla.qHeadDim(), json.optInt("intermediate_size", 0), numExperts,
        numExperts > 0 ? json.requireInt("num_experts_per_tok") : 0, moeIntermediate,
        json.optBoolean("norm_topk_prob", v3), sharedIntermediate, false, sparse, ModelConfig.QkNorm.NONE,
        false, Double.NaN, (float) json.optDouble("rms_norm_eps", 1e-6),
        json.optDouble("rope_theta", 10000.0), RopeScaling.parse(json.node("rope_scaling"), file),
        json.optInt("max_position_embeddings", 4096), json.optBoolean("tie_word_embeddings", false), eos,
        json.has("torch_dtype") ? json.requireString("torch_dtype") : "unknown", mla, routing,
        QuantizationConfig.fp8WeightBlock(json.node("quantization_config"), file));
  }
}
