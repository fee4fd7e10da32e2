package io.moestream.engine.model;

/**
 * One decoder layer.
 *
 * @param inputNorm (hiddenSize): RMSNorm before attention
 * @param attention grouped-query attention, or null when the layer has latent attention
 * @param latentAttention DeepSeek's multi-head latent attention, or null
 * @param postAttentionNorm (hiddenSize): RMSNorm before the MLP
 * @param moe the sparse MLP, or null on a dense layer
 * @param denseMlp the dense MLP, or null on a sparse layer
 */
public record LayerWeights(
    float[] inputNorm, AttentionWeights attention, float[] postAttentionNorm, MoeWeights moe, ExpertWeights denseMlp,
    MlaWeights latentAttention) {

  /** A layer with grouped-query attention. */
  public LayerWeights(
      float[] inputNorm, AttentionWeights attention, float[] postAttentionNorm, MoeWeights moe, ExpertWeights denseMlp) {
    this(inputNorm, attention, postAttentionNorm, moe, denseMlp, null);
  }

  /** Bytes of attention weights one token reads. */
  public long attentionByteSize() {
    return attention != null ? attention.byteSize() : latentAttention.byteSize();
  }
}
