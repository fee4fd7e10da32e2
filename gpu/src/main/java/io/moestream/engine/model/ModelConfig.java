package io.moestream.engine.model;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * What the engine needs from a Hugging Face config.json, read once and validated. Shapes of every
 * tensor follow from it ({@link ModelWeights} checks them against the checkpoint).
 *
 * @param sparseLayers which layers have experts (others run a dense MLP of {@code intermediateSize})
 * @param sharedExpertIntermediateSize 0 when the model has no shared expert
 * @param clipQkv OLMoE's clamp of q, k, v; NaN when absent
 * @param mla DeepSeek's multi-head latent attention, or null for grouped-query attention
 * @param routing how sparse layers score and pick experts
 * @param fp8WeightBlock (rows, cols) of the block scales of FP8 weights ({@code quantization_config}), or null
 * @param rotaryDim how many leading values of each query/key head RoPE rotates (rotate-half layout within
 *     them); headDim but for GLM-4.5's {@code partial_rotary_factor} (head_dim * factor); the rest pass through
 * @param layerWindows per layer, the sliding window of its attention (a query at position p sees keys at
 *     positions > p - window), or 0 for full attention: gpt-oss alternates the two, Mixtral and Qwen configs
 *     that set a window apply it to all (Qwen: from {@code max_window_layers} on) layers
 * @param swiglu gpt-oss's clamped SwiGLU of its fused experts, or null for the plain SiLU-gated MLP
 */
public record ModelConfig(
    Architecture architecture,
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int intermediateSize,
    int numExperts,
    int numExpertsPerTok,
    int moeIntermediateSize,
    boolean normTopKProb,
    int sharedExpertIntermediateSize,
    boolean sharedExpertGated,
    boolean[] sparseLayers,
    QkNorm qkNorm,
    boolean attentionBias,
    double clipQkv,
    float rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    int[] eosTokenIds,
    String torchDtype,
    MlaConfig mla,
    RoutingConfig routing,
    int[] fp8WeightBlock,
    int rotaryDim,
    int[] layerWindows,
    ClampedSwiglu swiglu) {

  public static final String FILE = "config.json";

  /** Full attention in every layer and the plain SiLU-gated MLP: every family but gpt-oss. */
  public ModelConfig(Architecture architecture, int vocabSize, int hiddenSize, int numLayers, int numHeads,
      int numKvHeads, int headDim, int intermediateSize, int numExperts, int numExpertsPerTok,
      int moeIntermediateSize, boolean normTopKProb, int sharedExpertIntermediateSize, boolean sharedExpertGated,
      boolean[] sparseLayers, QkNorm qkNorm, boolean attentionBias, double clipQkv, float rmsNormEps,
      double ropeTheta, RopeScaling ropeScaling, int maxPositionEmbeddings, boolean tieWordEmbeddings,
      int[] eosTokenIds, String torchDtype, MlaConfig mla, RoutingConfig routing, int[] fp8WeightBlock,
      int rotaryDim) {
    this(architecture, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, numExperts,
        numExpertsPerTok, moeIntermediateSize, normTopKProb, sharedExpertIntermediateSize, sharedExpertGated,
        sparseLayers, qkNorm, attentionBias, clipQkv, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings,
        tieWordEmbeddings, eosTokenIds, torchDtype, mla, routing, fp8WeightBlock, rotaryDim,
        new int[Math.max(numLayers, 0)], null);
  }

  /**
   * gpt-oss's experts: {@code gate_up = W x + b} (gate and up interleaved), then
   * {@code gate = min(gate, limit)}, {@code up = clamp(up, -limit, limit)},
   * {@code (up + 1) * gate * sigmoid(alpha * gate)}.
   */
  public record ClampedSwiglu(double limit, double alpha) {}

  /** Every family but GLM-4.5: RoPE rotates the whole head. */
  public ModelConfig(Architecture architecture, int vocabSize, int hiddenSize, int numLayers, int numHeads,
      int numKvHeads, int headDim, int intermediateSize, int numExperts, int numExpertsPerTok,
      int moeIntermediateSize, boolean normTopKProb, int sharedExpertIntermediateSize, boolean sharedExpertGated,
      boolean[] sparseLayers, QkNorm qkNorm, boolean attentionBias, double clipQkv, float rmsNormEps,
      double ropeTheta, RopeScaling ropeScaling, int maxPositionEmbeddings, boolean tieWordEmbeddings,
      int[] eosTokenIds, String torchDtype, MlaConfig mla, RoutingConfig routing, int[] fp8WeightBlock) {
    this(architecture, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, numExperts,
        numExpertsPerTok, moeIntermediateSize, normTopKProb, sharedExpertIntermediateSize, sharedExpertGated,
        sparseLayers, qkNorm, attentionBias, clipQkv, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings,
        tieWordEmbeddings, eosTokenIds, torchDtype, mla, routing, fp8WeightBlock, headDim);
  }

  /** A grouped-query-attention model with softmax top-k routing and unquantized weights. */
  public ModelConfig(Architecture architecture, int vocabSize, int hiddenSize, int numLayers, int numHeads,
      int numKvHeads, int headDim, int intermediateSize, int numExperts, int numExpertsPerTok,
      int moeIntermediateSize, boolean normTopKProb, int sharedExpertIntermediateSize, boolean sharedExpertGated,
      boolean[] sparseLayers, QkNorm qkNorm, boolean attentionBias, double clipQkv, float rmsNormEps,
      double ropeTheta, RopeScaling ropeScaling, int maxPositionEmbeddings, boolean tieWordEmbeddings,
      int[] eosTokenIds, String torchDtype) {
    this(architecture, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, numExperts,
        numExpertsPerTok, moeIntermediateSize, normTopKProb, sharedExpertIntermediateSize, sharedExpertGated,
        sparseLayers, qkNorm, attentionBias, clipQkv, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings,
        tieWordEmbeddings, eosTokenIds, torchDtype, null, RoutingConfig.SOFTMAX_TOP_K, null);
  }

  /** How queries and keys are normalized before RoPE. */
  public enum QkNorm {
    NONE,
    /** Qwen3: RMSNorm over each head's headDim values. */
    PER_HEAD,
    /** OLMoE: RMSNorm over the whole projection (numHeads * headDim values). */
    WHOLE_PROJECTION
  }

  public static ModelConfig read(Path modelFolder) {
    ConfigJson json = ConfigJson.read(modelFolder.resolve(FILE));
    Architecture arch = Architecture.fromModelType(json.requireString("model_type"), json.file());
    if (arch.isDeepseek() || arch == Architecture.GLM4_MOE || arch == Architecture.GPT_OSS) {
      ModelConfig config = arch.isDeepseek() ? DeepseekConfigReader.read(json, arch)
          : arch == Architecture.GLM4_MOE ? Glm4MoeConfigReader.read(json) : GptOssConfigReader.read(json);
      config.validate(json.file());
      return config;
    }
    int hiddenSize = json.requireInt("hidden_size");
    int numLayers = json.requireInt("num_hidden_layers");
    int numHeads = json.requireInt("num_attention_heads");
    int numKvHeads = json.optInt("num_key_value_heads", numHeads);
    int headDim = json.optInt("head_dim", numHeads > 0 ? hiddenSize / numHeads : 0);

    int numExperts;
    int moeIntermediate;
    int denseIntermediate;
    boolean normTopK;
    int sharedIntermediate = 0;
    boolean sharedGated = false;
    switch (arch) {
      case MIXTRAL -> {
        numExperts = json.requireInt("num_local_experts");
        moeIntermediate = json.requireInt("intermediate_size");
        denseIntermediate = moeIntermediate;
        normTopK = true; // Mixtral always renormalizes its top-k routing weights
      }
      case OLMOE -> {
        numExperts = json.requireInt("num_experts");
        moeIntermediate = json.requireInt("intermediate_size");
        denseIntermediate = moeIntermediate;
        normTopK = json.optBoolean("norm_topk_prob", false);
      }
      case QWEN2_MOE -> {
        numExperts = json.requireInt("num_experts");
        moeIntermediate = json.requireInt("moe_intermediate_size");
        denseIntermediate = json.optInt("intermediate_size", moeIntermediate);
        normTopK = json.optBoolean("norm_topk_prob", false);
        sharedIntermediate = json.optInt("shared_expert_intermediate_size", 0);
        sharedGated = sharedIntermediate > 0;
      }
      default -> {
        numExperts = json.requireInt("num_experts");
        moeIntermediate = json.requireInt("moe_intermediate_size");
        denseIntermediate = json.optInt("intermediate_size", moeIntermediate);
        normTopK = json.optBoolean("norm_topk_prob", false);
      }
    }
    int topK = json.requireInt("num_experts_per_tok");

    boolean[] sparse = new boolean[Math.max(numLayers, 0)];
    Set<Integer> mlpOnly = new HashSet<>();
    if (json.has("mlp_only_layers")) {
      for (int layer : json.optIntOrList("mlp_only_layers")) {
        mlpOnly.add(layer);
      }
    }
    int sparseStep = json.optInt("decoder_sparse_step", 1);
    if (sparseStep < 1) {
      throw new ConfigException(json.file() + ": decoder_sparse_step must be >= 1, found " + sparseStep);
    }
    for (int layer = 0; layer < sparse.length; layer++) {
      sparse[layer] = !mlpOnly.contains(layer) && numExperts > 0 && (layer + 1) % sparseStep == 0;
    }

    QkNorm qkNorm = switch (arch) {
      case QWEN3_MOE -> QkNorm.PER_HEAD;
      case OLMOE -> QkNorm.WHOLE_PROJECTION;
      default -> QkNorm.NONE;
    };
    boolean attentionBias = arch == Architecture.QWEN2_MOE || json.optBoolean("attention_bias", false);

    int[] eos = json.optIntOrList("eos_token_id");
    ModelConfig config = new ModelConfig(arch, json.requireInt("vocab_size"), hiddenSize, numLayers,
        numHeads, numKvHeads, headDim, denseIntermediate, numExperts, topK, moeIntermediate, normTopK,
        sharedIntermediate, sharedGated, sparse, qkNorm, attentionBias,
        json.has("clip_qkv") ? json.optDouble("clip_qkv", Double.NaN) : Double.NaN,
        (float) json.optDouble("rms_norm_eps", 1e-6), json.optDouble("rope_theta", 10000.0),
        RopeScaling.parse(json.node("rope_scaling"), json.file()),
        json.optInt("max_position_embeddings", 4096), json.optBoolean("tie_word_embeddings", false), eos,
        json.has("torch_dtype") ? json.requireString("torch_dtype") : "unknown", null, RoutingConfig.SOFTMAX_TOP_K,
        QuantizationConfig.fp8WeightBlock(json.node("quantization_config"), json.file()), headDim,
        SlidingWindows.read(json, arch, numLayers), null);
    config.validate(json.file());
    return config;
  }

  void validate(String file) {
    positive(file, "vocab_size", vocabSize);
    positive(file, "hidden_size", hiddenSize);
    positive(file, "num_hidden_layers", numLayers);
    positive(file, "num_attention_heads", numHeads);
    positive(file, "num_key_value_heads", numKvHeads);
    positive(file, "head_dim", headDim);
    positive(file, "max_position_embeddings", maxPositionEmbeddings);
    if (numHeads % numKvHeads != 0) {
      throw new ConfigException(file + ": num_attention_heads (" + numHeads
          + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
    }
    if (headDim % 2 != 0) {
      throw new ConfigException(file + ": head_dim must be even for rotary embeddings, found " + headDim);
    }
    if (mla == null && (rotaryDim <= 0 || rotaryDim > headDim || rotaryDim % 2 != 0)) {
      throw new ConfigException(file + ": the rotary dimension head_dim * partial_rotary_factor must be even and in"
          + " [2, head_dim = " + headDim + "], found " + rotaryDim);
    }
    if (numExperts > 0) {
      positive(file, "moe_intermediate_size", moeIntermediateSize);
      if (numExpertsPerTok < 1 || numExpertsPerTok > numExperts) {
        throw new ConfigException(file + ": num_experts_per_tok must be in [1, " + numExperts
            + "] (the number of experts), found " + numExpertsPerTok);
      }
    }
    for (boolean s : sparseLayers) {
      if (!s) {
        positive(file, "intermediate_size", intermediateSize);
      }
    }
    if (!(rmsNormEps > 0)) {
      throw new ConfigException(file + ": rms_norm_eps must be > 0, found " + rmsNormEps);
    }
    if (!(ropeTheta > 0)) {
      throw new ConfigException(file + ": rope_theta must be > 0, found " + ropeTheta);
    }
    if (mla != null) {
      mla.validate(file);
    }
    if (numExperts > 0) {
      routing.validate(file, numExperts);
    }
    if (layerWindows.length != numLayers) {
      throw new ConfigException(file + ": layer_types must name " + numLayers + " layers, found " + layerWindows.length);
    }
    for (int window : layerWindows) {
      if (window < 0) {
        throw new ConfigException(file + ": sliding_window must be > 0, found " + window);
      }
    }
  }

  /** The sliding window of {@code layer}'s attention, or 0 when it attends to every earlier position. */
  public int slidingWindow(int layer) {
    return layerWindows[layer];
  }

  /** Whether any layer attends through a sliding window. */
  public boolean hasSlidingWindow() {
    return Arrays.stream(layerWindows).anyMatch(w -> w > 0);
  }

  private static void positive(String file, String field, int value) {
    if (value <= 0) {
      throw new ConfigException(file + ": field '" + field + "' must be > 0, found " + value);
    }
  }

  public boolean isSparse(int layer) {
    return sparseLayers[layer];
  }

  public int qDim() {
    return numHeads * headDim;
  }

  public int kvDim() {
    return numKvHeads * headDim;
  }

  /** Floats per cached token per layer for keys: numKvHeads * headDim, or MLA's latent + rotated key. */
  public int kvKeyWidth() {
    return mla != null ? mla.cacheWidth() : kvDim();
  }

  /** Floats per cached token per layer for values: numKvHeads * headDim, or 0 for MLA (values come from the latent). */
  public int kvValueWidth() {
    return mla != null ? 0 : kvDim();
  }

  /** Bytes of KV cache (float32) one token takes over all layers. */
  public long kvCacheBytesPerToken() {
    return (long) numLayers * (kvKeyWidth() + kvValueWidth()) * Float.BYTES;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelConfig other && toString().equals(other.toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }

  @Override
  public String toString() {
    return architecture.modelType() + "{hidden=" + hiddenSize + ", layers=" + numLayers + ", heads=" + numHeads
        + "/" + numKvHeads + "x" + headDim + (mla == null && rotaryDim != headDim ? " (rotary " + rotaryDim + ")" : "")
        + ", experts=" + numExperts + " top-" + numExpertsPerTok
        + " x" + moeIntermediateSize + ", shared=" + sharedExpertIntermediateSize + ", vocab=" + vocabSize
        + ", sparse=" + Arrays.toString(sparseLayers) + ", eos=" + Arrays.toString(eosTokenIds)
        + (mla == null ? "" : ", " + mla) + (routing.equals(RoutingConfig.SOFTMAX_TOP_K) ? "" : ", " + routing)
        + (fp8WeightBlock == null ? "" : ", fp8 blocks " + Arrays.toString(fp8WeightBlock))
        + (hasSlidingWindow() ? ", windows " + Arrays.toString(layerWindows) : "")
        + (swiglu == null ? "" : ", " + swiglu)
        + ", kv cache " + kvCacheBytesPerToken() + " B/token}";
  }
}
