package io.moestream.engine.cpu;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.PhaseTimes;
import io.moestream.engine.backend.PhaseTimes.Phase;
import io.moestream.engine.backend.RoutingObserver;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.MatmulInput;
import io.moestream.engine.kernel.WorkerPool;
import io.moestream.engine.kv.KvCacheLayout;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.LayerWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.moe.Router;
import io.moestream.engine.moe.Routers;

/**
 * The forward pass on the CPU: embedding -> per layer (RMSNorm -> attention -> residual -> RMSNorm ->
 * MoE or dense MLP -> residual) -> final RMSNorm -> LM head for the tokens whose logits are wanted.
 * Activations are float32 throughout; weights are read in their checkpoint dtype.
 */
public final class CpuBackend implements Backend {
  private final ModelWeights weights;
  private final ModelConfig config;
  private final Kernels kernels;
  private final WorkerPool pool;
  private final PagedKvCache kvCache;
  private final AttentionLayer attention;
  private final CpuMoe moe;
  private volatile RoutingObserver routingObserver;
  private final PhaseTimes phaseTimes = new PhaseTimes();
  private volatile long peakStepScratchBytes; // the largest step's metered activation buffers
  private final long[] peakPartBytes = new long[StepScratchSizes.Part.values().length]; // by part, over steps

  public CpuBackend(ModelWeights weights, Kernels kernels, int threads, PagedKvCache kvCache) {
    this.weights = weights;
    this.config = weights.config();
    this.kernels = kernels;
    this.pool = new WorkerPool(threads);
    this.kvCache = kvCache;
    this.attention = AttentionLayer.forConfig(config, kernels, pool);
    Router[] routers = new Router[config.numLayers()]; // by layer; null on dense layers
    for (int layer = 0; layer < routers.length; layer++) {
      if (weights.layers()[layer].moe() != null) {
        routers[layer] = Routers.forLayer(config, weights.layers()[layer].moe());
      }
    }
    this.moe = new CpuMoe(config, kernels, pool, layer -> routers[layer], config.numExpertsPerTok());
  }

  /**
   * A KV cache sized for this model's attention: numKvHeads * headDim keys and values per layer, or
   * for latent attention kv_lora_rank + qk_rope_head_dim per layer and no values.
   */
  public static PagedKvCache newKvCache(ModelConfig config, int blockSize, int numBlocks) {
    return new PagedKvCache(config.numLayers(), config.kvKeyWidth(), config.kvValueWidth(), blockSize, numBlocks);
  }

  /** The same, in the pools of {@code layout} (sliding-window layers in their own, window-sized ones). */
  public static PagedKvCache newKvCache(ModelConfig config, KvCacheLayout layout) {
    return new PagedKvCache(layout, config.kvKeyWidth(), config.kvValueWidth());
  }

  @Override
  public String name() {
    return "cpu(" + pool.threads() + " threads, " + kernels + ")";
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public PagedKvCache kvCache() {
    return kvCache;
  }

  @Override
  public PhaseTimes phaseTimes() {
    return phaseTimes;
  }

  @Override
  public void setRoutingObserver(RoutingObserver observer) {
    this.routingObserver = observer;
  }

  @Override
  public StepOutput forward(StepBatch batch) {
    int numTokens = batch.numTokens();
    int hidden = config.hiddenSize();
    StepScratch scratch = new StepScratch();
    float[] residual = scratch.floats(numTokens * hidden); // (numTokens, hiddenSize)
    for (int t = 0; t < numTokens; t++) {
      int token = batch.tokenIds()[t];
      if (token < 0 || token >= config.vocabSize()) {
        throw new IllegalArgumentException("token id " + token + " outside the vocabulary [0, " + config.vocabSize() + ")");
      }
      weights.embedTokens().copyRow(token, residual, t * hidden);
    }
    CpuAttention.RopeTables ropeTables = attention.ropeTables(batch.positions(), scratch);
    float[] normed = scratch.floats(numTokens * hidden);
    float[] blockOut = scratch.floats(numTokens * hidden);
    int[][] expertsUsed = new int[config.numLayers()][]; // (numLayers, numTokens): returned in the StepOutput
    for (int layer = 0; layer < expertsUsed.length; layer++) {
      expertsUsed[layer] = scratch.ints(numTokens);
    }
    int[] distinctExperts = scratch.ints(config.numLayers());
    scratch.endStepLevel(); // each stage below allocates on top of this and is dead when it returns
    RoutingObserver observer = routingObserver;

    long clock = System.nanoTime();
    for (int layer = 0; layer < config.numLayers(); layer++) {
      LayerWeights lw = weights.layers()[layer];
      rmsNormRows(residual, lw.inputNorm(), normed, numTokens);
      clock = lap(Phase.EMBED_AND_NORMS, clock);
      long stage = scratch.beginStage();
      attention.forward(layer, lw, batch, ropeTables, kvCache, normed, blockOut, scratch);
      scratch.endStage(StepScratchSizes.Part.ATTENTION, stage);
      addInto(residual, blockOut);
      clock = lap(Phase.ATTENTION, clock);
      rmsNormRows(residual, lw.postAttentionNorm(), normed, numTokens);
      clock = lap(Phase.EMBED_AND_NORMS, clock);
      stage = scratch.beginStage();
      if (lw.moe() != null) {
        distinctExperts[layer] = moe.forward(layer, lw.moe(), numTokens, batch.expertsPerToken()[layer],
            batch.minExpertsPerToken(), batch.selection(), normed, blockOut, expertsUsed[layer], observer, phaseTimes,
            scratch);
        clock = System.nanoTime();
      } else {
        DenseMlp.forward(lw.denseMlp(), scratch.input(normed, numTokens, hidden), numTokens, hidden, blockOut,
            kernels, pool, scratch);
        clock = lap(Phase.DENSE_MLP, clock);
      }
      scratch.endStage(lw.moe() != null ? StepScratchSizes.Part.MOE : StepScratchSizes.Part.DENSE_MLP, stage);
      addInto(residual, blockOut);
    }

    int[] logitTokens = batch.logitTokens();
    long lmHeadStage = scratch.beginStage();
    float[] finalNormed = scratch.floats(logitTokens.length * hidden);
    for (int i = 0; i < logitTokens.length; i++) {
      kernels.rmsNorm(residual, logitTokens[i] * hidden, weights.finalNorm(), config.rmsNormEps(), finalNormed, i * hidden, hidden);
    }
    int vocab = config.vocabSize();
    float[] logits = scratch.floats(logitTokens.length * vocab);
    if (logitTokens.length > 0) {
      MatmulInput input = scratch.input(finalNormed, logitTokens.length, hidden);
      pool.runRanges(vocab, Kernels.ROW_ALIGN, (start, end) -> kernels.matmul(weights.lmHead(), input, logits, start, end));
    }
    lap(Phase.LM_HEAD, clock);
    scratch.endStage(StepScratchSizes.Part.LM_HEAD, lmHeadStage);
    recordPeaks(scratch);
    return new StepOutput(logits, vocab, expertsUsed, distinctExperts);
  }

  /**
   * The most bytes of activation buffers one step has held so far, as metered (see {@link StepScratch}):
   * what the memory plan's metered scratch states for a step of that size.
   */
  public long peakStepScratchBytes() {
    return peakStepScratchBytes;
  }

  /** The most bytes {@code part} of a step has held so far (see {@link StepScratchSizes.Part}). */
  public synchronized long peakStepScratchBytes(StepScratchSizes.Part part) {
    return peakPartBytes[part.ordinal()];
  }

  private synchronized void recordPeaks(StepScratch scratch) {
    peakStepScratchBytes = Math.max(peakStepScratchBytes, scratch.peakBytes());
    for (StepScratchSizes.Part part : StepScratchSizes.Part.values()) {
      peakPartBytes[part.ordinal()] = Math.max(peakPartBytes[part.ordinal()], scratch.peakBytes(part));
    }
  }

  private long lap(Phase phase, long since) {
    long now = System.nanoTime();
    phaseTimes.add(phase, now - since);
    return now;
  }

  private void rmsNormRows(float[] x, float[] weight, float[] out, int numTokens) {
    int hidden = config.hiddenSize();
    for (int t = 0; t < numTokens; t++) {
      kernels.rmsNorm(x, t * hidden, weight, config.rmsNormEps(), out, t * hidden, hidden);
    }
  }

  private static void addInto(float[] target, float[] addend) {
    for (int i = 0; i < target.length; i++) {
      target[i] += addend[i];
    }
  }

  @Override
  public void close() {
    pool.close();
  }
}
