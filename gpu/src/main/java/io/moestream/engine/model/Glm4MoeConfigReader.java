package io.moestream.engine.model;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * config.json of {@code glm4_moe} (GLM-4.5, GLM-4.6, GLM-4.5-Air; the fields of Hugging Face's
 * Glm4MoeConfig) -> {@link ModelConfig}. Differences from the other grouped-query families:
 *
 * <ul>
 *   <li>RoPE rotates only the first {@code int(head_dim * partial_rotary_factor)} values of each head
 *       (rotate-half layout within them); the released models use 0.5.
 *   <li>q/k/v projections have biases with {@code attention_bias} (o_proj never has one); {@code use_qk_norm}
 *       adds a per-head RMSNorm of queries and keys.
 *   <li>Routing is DeepSeek-V3's {@code noaux_tc}: sigmoid scores, {@code e_score_correction_bias} for the
 *       choice, {@code n_group}/{@code topk_group}, {@code routed_scaling_factor}.
 *   <li>{@code n_shared_experts} always-on experts fused into one MLP of {@code moe_intermediate_size * n};
 *       layers below {@code first_k_dense_replace} run a dense MLP of {@code intermediate_size}.
 *   <li>{@code num_nextn_predict_layers} next-token-prediction (MTP) layers follow the decoder layers in
 *       the checkpoint ({@code model.layers.<num_hidden_layers + i>.*}); the engine does not run them, and
 *       {@link ModelWeights} logs the layers it skips (found from the tensors, not from this field).
 * </ul>
 *
 * Newer transformers releases write {@code rope_theta} and {@code partial_rotary_factor} inside
 * {@code rope_parameters}; both places are read. Defaults are Glm4MoeConfig's.
 */
final class Glm4MoeConfigReader {
  /** Glm4MoeConfig's default, and the value of every released GLM-4.5 checkpoint. */
  static final double DEFAULT_PARTIAL_ROTARY_FACTOR = 0.5;

  private Glm4MoeConfigReader() {}

  static ModelConfig read(ConfigJson json) {
    String file = json.file();
    int hiddenSize = json.requireInt("hidden_size");
    int numLayers = json.requireInt("num_hidden_layers");
    int numHeads = json.requireInt("num_attention_heads");
    int numKvHeads = json.optInt("num_key_value_heads", numHeads);
    int headDim = json.optInt("head_dim", numHeads > 0 ? hiddenSize / numHeads : 0);
    JsonNode ropeParameters = json.node("rope_parameters");
    double partialRotaryFactor = json.has("partial_rotary_factor")
        ? json.optDouble("partial_rotary_factor", DEFAULT_PARTIAL_ROTARY_FACTOR)
        : ropeNumber(ropeParameters, "partial_rotary_factor", DEFAULT_PARTIAL_ROTARY_FACTOR, file);
    if (!(partialRotaryFactor > 0 && partialRotaryFactor <= 1)) {
      throw new ConfigException(file + ": partial_rotary_factor must be in (0, 1], found " + partialRotaryFactor);
    }
    double ropeTheta = json.has("rope_theta") ? json.optDouble("rope_theta", 10000.0)
        : ropeNumber(ropeParameters, "rope_theta", 10000.0, file);
    // Glm4MoeRotaryEmbedding: dim = int(head_dim * partial_rotary_factor).
    int rotaryDim = (int) (headDim * partialRotaryFactor);

    int numExperts = json.requireInt("n_routed_experts");
    int moeIntermediate = json.requireInt("moe_intermediate_size");
    int nSharedExperts = json.optInt("n_shared_experts", 1);
    if (nSharedExperts < 0) {
      throw new ConfigException(file + ": n_shared_experts must be >= 0, found " + nSharedExperts);
    }
    int firstDense = json.optInt("first_k_dense_replace", 1);
    if (firstDense < 0) {
      throw new ConfigException(file + ": first_k_dense_replace must be >= 0, found " + firstDense);
    }
    boolean[] sparse = new boolean[Math.max(numLayers, 0)];
    for (int layer = 0; layer < sparse.length; layer++) {
      sparse[layer] = layer >= firstDense; // Glm4MoeDecoderLayer: MoE where layer_idx >= first_k_dense_replace
    }
    RoutingConfig routing = new RoutingConfig(RoutingConfig.Scoring.SIGMOID, RoutingConfig.TopkMethod.NOAUX_TC,
        json.optInt("n_group", 1), json.optInt("topk_group", 1), json.optDouble("routed_scaling_factor", 1.0));
    int topK = json.requireInt("num_experts_per_tok");
    if (routing.numGroups() > 0 && numExperts % routing.numGroups() == 0
        && routing.topkGroup() * (numExperts / routing.numGroups()) < topK) {
      throw new ConfigException(file + ": topk_group " + routing.topkGroup() + " of n_group " + routing.numGroups()
          + " leaves fewer than num_experts_per_tok = " + topK + " experts to choose from");
    }
    if (json.has("hidden_act") && !json.requireString("hidden_act").equals("silu")) {
      throw new ConfigException(file + ": hidden_act '" + json.requireString("hidden_act")
          + "' is not supported for glm4_moe (silu)");
    }
    return new ModelConfig(Architecture.GLM4_MOE, json.requireInt("vocab_size"), hiddenSize, numLayers, numHeads,
        numKvHeads, headDim, json.optInt("intermediate_size", 0), numExperts, topK,
        moeIntermediate, json.optBoolean("norm_topk_prob", true), moeIntermediate * nSharedExperts, false, sparse,
        json.optBoolean("use_qk_norm", false) ? ModelConfig.QkNorm.PER_HEAD : ModelConfig.QkNorm.NONE,
        json.optBoolean("attention_bias", false), Double.NaN, (float) json.optDouble("rms_norm_eps", 1e-5),
        ropeTheta, RopeScaling.parse(json.has("rope_scaling") ? json.node("rope_scaling") : ropeParameters, file),
        json.optInt("max_position_embeddings", 131072), json.optBoolean("tie_word_embeddings", false),
        json.optIntOrList("eos_token_id"), json.has("torch_dtype") ? json.requireString("torch_dtype") : "unknown",
        null, routing, QuantizationConfig.fp8WeightBlock(json.node("quantization_config"), file), rotaryDim);
  }

  private static double ropeNumber(JsonNode ropeParameters, String field, double defaultValue, String file) {
    if (ropeParameters == null || ropeParameters.isNull() || !ropeParameters.has(field)) {
      return defaultValue;
    }
    JsonNode value = ropeParameters.get(field);
    if (!value.isNumber()) {
      throw new ConfigException(file + ": field 'rope_parameters." + field + "' must be a number, found " + value);
    }
    return value.asDouble();
  }
}
