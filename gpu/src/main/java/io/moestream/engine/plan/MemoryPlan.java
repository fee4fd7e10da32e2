package io.moestream.engine.plan;

import io.moestream.engine.cpu.StepScratchSizes;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.DType;
import io.moestream.engine.format.TensorData;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.kv.KvCacheLayout;
import io.moestream.engine.model.ModelConfig;

/**
 * The memory an engine will take, stated before anything is allocated: from config.json, the
 * safetensors headers and the engine options, with the size formulas the allocations use
 * ({@link KvCacheLayout#bytes}, {@link StepScratchSizes}). Checked by {@link MemoryCheck}.
 *
 * @param weights mapped, heap-copied and device bytes of the checkpoint
 * @param kvLayerKind what one layer caches per token ("keys + values (grouped-query)" or "latent + rope key (MLA)")
 * @param kvKeyFloats key floats per layer and token (MLA: kv_lora_rank + qk_rope_head_dim)
 * @param kvValueFloats value floats per layer and token (0 for MLA)
 * @param kvBlocks blocks of the cache's full-attention pool (of its windowed pool when every layer has a window)
 * @param kvBlockSize tokens per block
 * @param kvCacheBytes what the cache's arrays take (the same on the device for CUDA)
 * @param maxBatchTokens tokens of the step the scratch is planned for
 * @param scratch one step's heap at {@code maxBatchTokens} tokens, every one returning logits
 * @param backend the engine's backend option
 * @param kvLayout the cache's block pools: sliding-window layers in their own, sized by window, not context
 */
public record MemoryPlan(ModelConfig config, WeightBytes weights, String kvLayerKind, int kvKeyFloats,
    int kvValueFloats, int kvBlocks, int kvBlockSize, long kvCacheBytes, int maxBatchTokens,
    StepScratchSizes.Estimate scratch, int threads, String backend, KvCacheLayout kvLayout) {

  /** The plan for {@code options} over a model whose checkpoint is opened (mapped, headers read, no weight read). */
  public static MemoryPlan of(ModelConfig config, Checkpoint checkpoint, EngineOptions options) {
    KvCacheLayout layout = KvCacheLayout.plan(config.layerWindows(), config.kvKeyWidth(), config.kvValueWidth(),
        options.kvCacheBytes(), options.kvBlockSize(), options.maxBatchTokens(), options.maxRunningSequences());
    int blocks = layout.primaryBlocks();
    long cacheBytes = layout.bytes(config.kvKeyWidth(), config.kvValueWidth());
    int context = (int) Math.min(config.maxPositionEmbeddings(), layout.longestAttendedContext());
    boolean sixteenBit = checkpoint.tensors().values().stream().anyMatch(MemoryPlan::isSixteenBitMatrix);
    StepScratchSizes.Estimate scratch = StepScratchSizes.estimate(config, options.maxBatchTokens(),
        options.maxBatchTokens(), context, options.threads(), sixteenBit);
    String kind = config.mla() != null ? "latent + rope key (multi-head latent attention)"
        : "keys + values (grouped-query attention)";
    return new MemoryPlan(config, WeightBytes.of(checkpoint, config.numLayers(), options.weights(),
        config.tieWordEmbeddings()), kind, config.kvKeyWidth(), config.kvValueWidth(),
        blocks, options.kvBlockSize(), cacheBytes, options.maxBatchTokens(), scratch, options.threads(),
        options.backend(), layout);
  }

  private static boolean isSixteenBitMatrix(TensorData tensor) {
    return tensor.rank() == 2 && (tensor.dtype() == DType.BF16 || tensor.dtype() == DType.F16);
  }

  /** Bytes one cached token takes over all layers. */
  public long kvBytesPerToken() {
    return (long) config.numLayers() * kvBytesPerTokenPerLayer();
  }

  public long kvBytesPerTokenPerLayer() {
    return (long) (kvKeyFloats + kvValueFloats) * Float.BYTES;
  }

  /** Tokens the configured cache holds, over all sequences (in its full-attention layers). */
  public long kvTokens() {
    return (long) kvBlocks * kvBlockSize;
  }

  /** What lives on the JVM heap: copied weights, the KV cache (also for CUDA: its host pages), a step's scratch. */
  public long heapBytes() {
    return weights.heapCopiedBytes() + kvCacheBytes + scratch.totalBytes();
  }

  /**
   * What must be resident in RAM for the engine to run without paging: the mapped weights, the heap and
   * (weights int8) the quantized copies in direct memory.
   */
  public long ramBytes() {
    return weights.mappedBytes() + heapBytes() + weights.int8Bytes();
  }

  /** What the CUDA backend puts on the device before its first step: weights and KV pages (step scratch grows on top). */
  public long deviceBytes() {
    return weights.deviceBytes() + kvCacheBytes;
  }

  /** Whether the backend option may put the model on a GPU. */
  public boolean usesGpu() {
    return !"cpu".equals(backend);
  }
}
