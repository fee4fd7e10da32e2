package io.moestream.engine.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The model families the engine runs, keyed by config.json's {@code model_type}, with the Hugging Face
 * tensor names each uses. Layer-level names are relative to {@code model.layers.N.}.
 */
public enum Architecture {
  QWEN3_MOE("qwen3_moe", "mlp.gate", "mlp.experts.%d.", "gate_proj", "up_proj", "down_proj"),
  QWEN2_MOE("qwen2_moe", "mlp.gate", "mlp.experts.%d.", "gate_proj", "up_proj", "down_proj"),
  MIXTRAL("mixtral", "block_sparse_moe.gate", "block_sparse_moe.experts.%d.", "w1", "w3", "w2"),
  OLMOE("olmoe", "mlp.gate", "mlp.experts.%d.", "gate_proj", "up_proj", "down_proj"),
  DEEPSEEK_V2("deepseek_v2", "mlp.gate", "mlp.experts.%d.", "gate_proj", "up_proj", "down_proj"),
  DEEPSEEK_V3("deepseek_v3", "mlp.gate", "mlp.experts.%d.", "gate_proj", "up_proj", "down_proj"),
  /** GLM-4.5 / 4.6 / 4.5-Air (Hugging Face's Glm4MoeForCausalLM). */
  GLM4_MOE("glm4_moe", "mlp.gate", "mlp.experts.%d.", "gate_proj", "up_proj", "down_proj"),
  /**
   * OpenAI's gpt-oss-20b / 120b (Hugging Face's GptOssForCausalLM). Its experts are stacked per layer
   * ({@link #stackedExperts}), not one tensor per expert; the per-expert names do not apply.
   */
  GPT_OSS("gpt_oss", "mlp.router", "mlp.experts.%d.", "gate_up_proj", "gate_up_proj", "down_proj");

  private final String modelType;
  /** The router's weight, (numExperts, hiddenSize). HF calls it "gate"; here it is the router. */
  private final String routerName;
  private final String expertPrefix;
  /** Names of the SiLU-gated projection (w1), the up projection (w3) and the down projection (w2). */
  private final String expertGateProj;
  private final String expertUpProj;
  private final String expertDownProj;

  Architecture(String modelType, String routerName, String expertPrefix,
      String expertGateProj, String expertUpProj, String expertDownProj) {
    this.modelType = modelType;
    this.routerName = routerName;
    this.expertPrefix = expertPrefix;
    this.expertGateProj = expertGateProj;
    this.expertUpProj = expertUpProj;
    this.expertDownProj = expertDownProj;
  }

  public String modelType() {
    return modelType;
  }

  /** DeepSeek-V2/V3: multi-head latent attention, shared experts, group-limited routing. */
  public boolean isDeepseek() {
    return this == DEEPSEEK_V2 || this == DEEPSEEK_V3;
  }

  /**
   * Kimi-K2's config.json says {@code model_type: kimi_k2} with {@code architectures: [DeepseekV3ForCausalLM]}:
   * its modeling code is DeepSeek-V3's (same tensor names, MLA, sigmoid noaux_tc routing), only the sizes
   * differ, so it is read as {@link #DEEPSEEK_V3}.
   */
  public static final String KIMI_K2 = "kimi_k2";

  public static Architecture fromModelType(String modelType, String configFile) {
    if (KIMI_K2.equals(modelType)) {
      return DEEPSEEK_V3;
    }
    for (Architecture a : values()) {
      if (a.modelType.equals(modelType)) {
        return a;
      }
    }
    throw new ConfigException(configFile + ": model_type '" + modelType + "' is not supported (supported: "
        + Arrays.stream(values()).map(Architecture::modelType).collect(Collectors.joining(", ")) + ", " + KIMI_K2
        + " as deepseek_v3)");
  }

  public static String layerPrefix(int layer) {
    return "model.layers." + layer + ".";
  }

  public String router(int layer) {
    return layerPrefix(layer) + routerName + ".weight";
  }

  public String expertGateProj(int layer, int expert) {
    return layerPrefix(layer) + String.format(expertPrefix, expert) + expertGateProj + ".weight";
  }

  public String expertUpProj(int layer, int expert) {
    return layerPrefix(layer) + String.format(expertPrefix, expert) + expertUpProj + ".weight";
  }

  public String expertDownProj(int layer, int expert) {
    return layerPrefix(layer) + String.format(expertPrefix, expert) + expertDownProj + ".weight";
  }

  /** The dense MLP of a layer without experts: {@code mlp.{gate,up,down}_proj}. */
  public String denseProj(int layer, String proj) {
    return layerPrefix(layer) + "mlp." + proj + ".weight";
  }

  /**
   * The always-on expert: Qwen2-MoE's {@code mlp.shared_expert.{gate,up,down}_proj}; DeepSeek's and
   * GLM-4.5's {@code mlp.shared_experts.*} (their n_shared_experts fused into one MLP).
   */
  public String sharedExpertProj(int layer, String proj) {
    boolean plural = isDeepseek() || this == GLM4_MOE;
    return layerPrefix(layer) + (plural ? "mlp.shared_experts." : "mlp.shared_expert.") + proj + ".weight";
  }

  /** DeepSeek-V3's and GLM-4.5's per-expert bias added to the scores for choosing experts only, (numExperts). */
  public String routerScoreCorrectionBias(int layer) {
    return layerPrefix(layer) + routerName + ".e_score_correction_bias";
  }

  /** gpt-oss's router bias, (numExperts), added to the router logits. */
  public String routerBias(int layer) {
    return layerPrefix(layer) + routerName + ".bias";
  }

  /**
   * gpt-oss's stacked expert tensors: {@code mlp.experts.<name>}, e.g. {@code gate_up_proj}
   * (numExperts, hidden, 2 * intermediate), {@code gate_up_proj_blocks}, {@code down_proj_bias}.
   */
  public static String stackedExperts(int layer, String name) {
    return layerPrefix(layer) + "mlp.experts." + name;
  }

  /** A multi-head latent attention weight: {@code self_attn.<name>.weight}. */
  public static String attentionWeight(int layer, String name) {
    return layerPrefix(layer) + "self_attn." + name + ".weight";
  }

  /** Qwen2-MoE's scalar gate of the shared expert, (1, hiddenSize). */
  public String sharedExpertGate(int layer) {
    return layerPrefix(layer) + "mlp.shared_expert_gate.weight";
  }
}
