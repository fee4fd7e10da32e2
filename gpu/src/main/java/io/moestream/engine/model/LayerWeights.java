package io.moestream.engine.model;

/**
 * One decoder layer.
 *
 * @param inputNorm (hiddenSize): RMSNorm before attention
 * @param postAttentionNorm (hiddenSize): RMSNorm before the MLP
 * @param moe the sparse MLP, or null on a dense layer
 * @param denseMlp the dense MLP, or null on a sparse layer
 */
public record LayerWeights(
    float[] inputNorm, AttentionWeights attention, float[] postAttentionNorm, MoeWeights moe, ExpertWeights denseMlp) {}
