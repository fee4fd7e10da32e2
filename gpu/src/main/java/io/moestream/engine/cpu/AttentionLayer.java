package io.moestream.engine.cpu;

import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.WorkerPool;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.LayerWeights;
import io.moestream.engine.model.ModelConfig;

/**
 * One layer's self-attention over the paged KV cache: {@link CpuAttention} (grouped-query) or
 * {@link LatentAttention} (DeepSeek's multi-head latent attention), chosen from the config.
 */
interface AttentionLayer {

  /** Per-step rotary tables for the step's positions, shared by every layer. */
  CpuAttention.RopeTables ropeTables(int[] positions, StepScratch scratch);

  default CpuAttention.RopeTables ropeTables(int[] positions) {
    return ropeTables(positions, new StepScratch());
  }

  /**
   * Writes the step's keys (and values) into the cache and attends.
   *
   * @param normed (numTokens, hiddenSize): the layer input after input_layernorm
   * @param out (numTokens, hiddenSize): receives the attention block's output
   */
  void forward(int layer, LayerWeights weights, StepBatch batch, CpuAttention.RopeTables tables, PagedKvCache cache,
      float[] normed, float[] out, StepScratch scratch);

  default void forward(int layer, LayerWeights weights, StepBatch batch, CpuAttention.RopeTables tables,
      PagedKvCache cache, float[] normed, float[] out) {
    forward(layer, weights, batch, tables, cache, normed, out, new StepScratch());
  }

  static AttentionLayer forConfig(ModelConfig config, Kernels kernels, WorkerPool pool) {
    return config.mla() != null ? new LatentAttention(config, kernels, pool) : new CpuAttention(config, kernels, pool);
  }
}
