package io.moestream.engine.plan;

/** What a checkpoint tensor is, from its Hugging Face name, for the memory plan's breakdown. */
public enum WeightKind {
  EMBEDDINGS_AND_LM_HEAD("embeddings + LM head"),
  ATTENTION("attention"),
  ROUTED_EXPERTS("routed experts"),
  SHARED_AND_DENSE_MLP("shared experts + dense MLPs"),
  ROUTERS("routers"),
  NORMS_AND_OTHER("norms + other");

  private final String label;

  WeightKind(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  /**
   * The kind of tensor {@code name}: {@code model.embed_tokens} and {@code lm_head}; {@code self_attn.*};
   * {@code mlp.experts.N} / {@code block_sparse_moe.experts.N}; the shared expert(s) and its gate, and the
   * dense {@code mlp.{gate,up,down}_proj}; the router ({@code mlp.gate} / {@code block_sparse_moe.gate},
   * DeepSeek-V3's score correction bias, gpt-oss's {@code mlp.router}); everything else (layer norms, the final
   * norm). FP8 block scales ({@code *_scale_inv}) go with their weight; gpt-oss's stacked
   * {@code mlp.experts.gate_up_proj[_blocks|_scales|_bias]} are routed experts.
   */
  public static WeightKind of(String name) {
    if (name.startsWith("model.embed_tokens.") || name.startsWith("lm_head.")) {
      return EMBEDDINGS_AND_LM_HEAD;
    }
    if (name.contains(".self_attn.")) {
      return ATTENTION;
    }
    if (name.contains(".mlp.router.")) { // gpt-oss's router weight and bias
      return ROUTERS;
    }
    if (name.contains(".experts.") && !name.contains(".shared_experts.")) {
      return ROUTED_EXPERTS;
    }
    if (name.contains(".shared_expert") || name.contains(".mlp.gate_proj.") || name.contains(".mlp.up_proj.")
        || name.contains(".mlp.down_proj.")) {
      return SHARED_AND_DENSE_MLP;
    }
    if (name.contains(".mlp.gate.") || name.contains(".block_sparse_moe.gate.")) {
      return ROUTERS;
    }
    return NORMS_AND_OTHER;
  }
}
