package io.moestream.engine.cpu;

import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.MatmulInput;
import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.kernel.WorkerPool;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.AttentionWeights;
import io.moestream.engine.model.LayerWeights;
import io.moestream.engine.model.ModelConfig;

/**
 * Grouped-query causal attention over the paged KV cache, for Qwen2/3-MoE, Mixtral, OLMoE, GLM-4.5 and
 * gpt-oss: q/k/v projections (+ bias) -> q/k RMSNorm (per head or over the projection) -> optional clamp ->
 * RoPE (on each head's first rotaryDim values) -> keys and values into the cache -> softmax(q k^T / sqrt(headDim)) v -> o projection.
 *
 * <p>A layer with a sliding window attends to the last {@code window} positions only (itself included,
 * Hugging Face's {@code kv > q - sliding_window}); the cache still holds every position. gpt-oss's
 * sinks add {@code exp(sink[h])} to head h's softmax denominator: a share of attention that goes nowhere.
 */
final class CpuAttention implements AttentionLayer {
  private final ModelConfig config;
  private final Kernels kernels;
  private final WorkerPool pool;
  private final Rope rope;

  CpuAttention(ModelConfig config, Kernels kernels, WorkerPool pool) {
    this.config = config;
    this.kernels = kernels;
    this.pool = pool;
    if (config.ropeScaling().type() == io.moestream.engine.model.RopeScaling.Type.YARN
        && config.architecture() != io.moestream.engine.model.Architecture.GPT_OSS) {
      throw new UnsupportedOperationException("yarn rope scaling is implemented for the DeepSeek architectures and"
          + " gpt_oss only");
    }
    // GLM-4.5 rotates only the first rotaryDim values of each head; the others pass through unrotated.
    this.rope = new Rope(config.rotaryDim(), config.ropeTheta(), config.ropeScaling());
  }

  /** Per-step rotary tables, shared by every layer. */
  record RopeTables(float[] cos, float[] sin) {}

  @Override
  public RopeTables ropeTables(int[] positions, StepScratch scratch) {
    float[] cos = scratch.floats(positions.length * rope.half());
    float[] sin = scratch.floats(positions.length * rope.half());
    rope.tables(positions, cos, sin);
    return new RopeTables(cos, sin);
  }

  @Override
  public void forward(int layer, LayerWeights weights, StepBatch batch, RopeTables tables, PagedKvCache cache,
      float[] normed, float[] out, StepScratch scratch) {
    forward(layer, weights.attention(), batch, tables, cache, normed, out, scratch);
  }

  /**
   * @param normed (numTokens, hiddenSize): the layer input after input_layernorm
   * @param out (numTokens, hiddenSize): receives the attention block's output
   */
  void forward(int layer, AttentionWeights w, StepBatch batch, RopeTables tables, PagedKvCache cache,
      float[] normed, float[] out, StepScratch scratch) {
    int numTokens = batch.numTokens();
    int headDim = config.headDim();
    int qDim = config.qDim();
    int kvDim = config.kvDim();
    MatmulInput input = scratch.input(normed, numTokens, config.hiddenSize());
    float[] q = scratch.floats(numTokens * qDim);
    float[] k = scratch.floats(numTokens * kvDim);
    float[] v = scratch.floats(numTokens * kvDim);
    project(w.qProj(), input, q);
    project(w.kProj(), input, k);
    project(w.vProj(), input, v);

    float[] keyCache = cache.keys(layer);
    float[] valueCache = cache.values(layer);
    pool.run(numTokens, t -> {
      addBias(q, t * qDim, w.qBias(), qDim);
      addBias(k, t * kvDim, w.kBias(), kvDim);
      addBias(v, t * kvDim, w.vBias(), kvDim);
      normalize(q, t * qDim, w.qNorm(), config.numHeads());
      normalize(k, t * kvDim, w.kNorm(), config.numKvHeads());
      if (!Double.isNaN(config.clipQkv())) {
        float clip = (float) config.clipQkv();
        clamp(q, t * qDim, qDim, clip);
        clamp(k, t * kvDim, kvDim, clip);
        clamp(v, t * kvDim, kvDim, clip);
      }
      for (int h = 0; h < config.numHeads(); h++) {
        rope.apply(q, t * qDim + h * headDim, tables.cos(), tables.sin(), t);
      }
      for (int h = 0; h < config.numKvHeads(); h++) {
        rope.apply(k, t * kvDim + h * headDim, tables.cos(), tables.sin(), t);
      }
      int slot = batch.kvSequences()[t].slot(layer, batch.positions()[t]);
      System.arraycopy(k, t * kvDim, keyCache, slot * kvDim, kvDim);
      System.arraycopy(v, t * kvDim, valueCache, slot * kvDim, kvDim);
    });

    float[] attended = scratch.floats(numTokens * qDim);
    int numHeads = config.numHeads();
    int groupSize = numHeads / config.numKvHeads();
    float scale = (float) (1.0 / Math.sqrt(headDim));
    int window = config.slidingWindow(layer);
    float[] sinks = w.sinks();
    int numKvHeads = config.numKvHeads();
    // One task per (token, KV head): its group of query heads reads each key and value once.
    pool.run(numTokens * numKvHeads, task -> {
      int t = task / numKvHeads;
      int kvHead = task % numKvHeads;
      int kvOffset = kvHead * headDim;
      PagedKvCache.Sequence sequence = batch.kvSequences()[t];
      int contextLength = batch.positions()[t] + 1;
      int first = window > 0 ? Math.max(0, contextLength - window) : 0;
      int keys = contextLength - first;
      float[] scores = new float[groupSize * keys]; // (groupSize, keys)
      int[] cacheOffsets = new int[keys]; // each key's (and its value's) offset in the caches
      sequence.rowOffsets(layer, first, keys, kvDim, kvOffset, cacheOffsets);
      int firstHead = kvHead * groupSize;
      int qOffset = t * qDim + firstHead * headDim;
      kernels.scaledDots(q, qOffset, groupSize, keyCache, cacheOffsets, keys, headDim, scale, scores);
      for (int g = 0; g < groupSize; g++) {
        kernels.softmax(scores, g * keys, keys, sinks == null ? Float.NEGATIVE_INFINITY : sinks[firstHead + g],
            sinks != null);
      }
      kernels.weightedSum(scores, groupSize, valueCache, cacheOffsets, keys, attended, qOffset, headDim);
    });
    project(w.oProj(), scratch.input(attended, numTokens, qDim), out);
    for (int t = 0; t < numTokens; t++) {
      addBias(out, t * config.hiddenSize(), w.oBias(), config.hiddenSize());
    }
  }

  private void project(Matrix w, MatmulInput input, float[] out) {
    pool.runRanges(w.rows(), Kernels.ROW_ALIGN, (start, end) -> kernels.matmul(w, input, out, start, end));
  }

  private static void addBias(float[] x, int offset, float[] bias, int n) {
    if (bias == null) {
      return;
    }
    for (int i = 0; i < n; i++) {
      x[offset + i] += bias[i];
    }
  }

  /** RMSNorm per head when the weight has headDim values, over the whole projection otherwise. */
  private void normalize(float[] x, int offset, float[] weight, int heads) {
    if (weight == null) {
      return;
    }
    int headDim = config.headDim();
    if (config.qkNorm() == ModelConfig.QkNorm.PER_HEAD) {
      for (int h = 0; h < heads; h++) {
        kernels.rmsNorm(x, offset + h * headDim, weight, config.rmsNormEps(), x, offset + h * headDim, headDim);
      }
    } else {
      kernels.rmsNorm(x, offset, weight, config.rmsNormEps(), x, offset, weight.length);
    }
  }

  private static void clamp(float[] x, int offset, int n, float limit) {
    for (int i = offset; i < offset + n; i++) {
      x[i] = Math.max(-limit, Math.min(limit, x[i]));
    }
  }
}
