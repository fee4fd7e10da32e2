package io.moestream.engine.cuda;

import io.moestream.engine.cuda.DeviceScratch.Buffer;
import io.moestream.engine.model.ModelConfig;

/**
 * One layer's grouped-query attention on the device, mirroring cpu/CpuAttention step for step:
 * q/k/v projections (+ bias) -> q/k RMSNorm (per head or over the projection) -> optional clamp ->
 * rotate-half RoPE -> keys and values into the paged cache -> attention (flash-decoding for single
 * tokens, the tiled prefill kernel for prompt runs) -> o projection.
 */
final class CudaAttention {
  private final ModelConfig config;
  private final KernelLauncher launcher;
  private final DeviceGemm gemm;
  private final DeviceScratch scratch;
  private final DevicePointer invFreq; // (headDim / 2)
  private final int multiprocessors;

  CudaAttention(ModelConfig config, KernelLauncher launcher, DeviceGemm gemm, DeviceScratch scratch,
      DeviceMemory memory, int multiprocessors) {
    LaunchGeometry.checkAttentionShape(config.headDim(), config.numHeads(), config.numKvHeads());
    this.config = config;
    this.launcher = launcher;
    this.gemm = gemm;
    this.scratch = scratch;
    this.invFreq = memory.upload(inverseFrequencies(config));
    this.multiprocessors = multiprocessors;
  }

  /** theta^(-2i/d), divided by the factor for linear scaling: the same floats as cpu/Rope. */
  static float[] inverseFrequencies(ModelConfig config) {
    int headDim = config.headDim();
    float[] inv = new float[headDim / 2];
    for (int i = 0; i < inv.length; i++) {
      float value = (float) (1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / headDim));
      if (config.ropeScaling().type() == io.moestream.engine.model.RopeScaling.Type.LINEAR) {
        value = (float) (value / config.ropeScaling().factor());
      }
      inv[i] = value;
    }
    return inv;
  }

  /**
   * @param normed (numTokens, hiddenSize) on the device
   * @param out (numTokens, hiddenSize) on the device: receives the attention block's output
   */
  void forward(DeviceWeights.Attention w, DeviceKvCache.Layer cache, DeviceStep step, DevicePointer normed,
      DevicePointer out) {
    int n = step.numTokens();
    int numHeads = config.numHeads();
    int numKvHeads = config.numKvHeads();
    int headDim = config.headDim();
    int qDim = config.qDim();
    int kvDim = config.kvDim();
    DevicePointer q = scratch.get(Buffer.Q, (long) n * qDim);
    DevicePointer k = scratch.get(Buffer.K, (long) n * kvDim);
    DevicePointer v = scratch.get(Buffer.V, (long) n * kvDim);
    gemm.linear(w.q(), normed, n, q);
    gemm.linear(w.k(), normed, n, k);
    gemm.linear(w.v(), normed, n, v);
    addBias(q, w.qBias(), n, qDim);
    addBias(k, w.kBias(), n, kvDim);
    addBias(v, w.vBias(), n, kvDim);
    if (w.qNorm() != null) {
      normalize(q, w.qNorm(), n, numHeads);
    }
    if (w.kNorm() != null) {
      normalize(k, w.kNorm(), n, numKvHeads);
    }
    if (!Double.isNaN(config.clipQkv())) {
      float clip = (float) config.clipQkv();
      clamp(q, n * qDim, clip);
      clamp(k, n * kvDim, clip);
      clamp(v, n * kvDim, clip);
    }
    int ropeThreads = LaunchGeometry.ATTENTION_THREADS;
    launcher.launch(CudaKernel.ROPE_ROTATE_HALF, n, ropeThreads, q, step.positions(), invFreq, n, numHeads, headDim);
    launcher.launch(CudaKernel.ROPE_ROTATE_HALF, n, ropeThreads, k, step.positions(), invFreq, n, numKvHeads, headDim);
    launcher.launch(CudaKernel.KV_WRITE, n, LaunchGeometry.ATTENTION_THREADS, k, v, step.slots(), n, kvDim, cache.keys(),
        cache.values());

    DevicePointer attended = scratch.get(Buffer.ATTENDED, (long) n * qDim);
    float scale = (float) (1.0 / Math.sqrt(headDim));
    int blockSize = step.blockSize();
    int maxBlocks = step.tables().maxBlocksPerSeq();
    int numDecode = step.plan().decodeTokens().length;
    if (numDecode > 0) {
      int tasks = numDecode * numHeads;
      int maxContext = step.tables().maxContext();
      int partitionSize = LaunchGeometry.decodePartitionSize(tasks, maxContext, multiprocessors);
      int partitions = GemmWorkList.ceilDiv(maxContext, partitionSize);
      DevicePointer partialOut = scratch.get(Buffer.PARTIAL_OUT, (long) tasks * partitions * headDim);
      DevicePointer partialMax = scratch.get(Buffer.PARTIAL_MAX, (long) tasks * partitions);
      DevicePointer partialSum = scratch.get(Buffer.PARTIAL_SUM, (long) tasks * partitions);
      launcher.launch2d(CudaKernel.PAGED_ATTENTION_DECODE_PARTIAL, tasks, partitions, LaunchGeometry.ATTENTION_THREADS, 0,
          q, cache.keys(), cache.values(), step.blockTables(), step.tokenSeq(), step.contextLens(), step.decodeTokens(),
          numHeads, numKvHeads, headDim, blockSize, maxBlocks, partitionSize, scale, partialOut, partialMax, partialSum);
      launcher.launch(CudaKernel.PAGED_ATTENTION_DECODE_REDUCE, tasks, LaunchGeometry.ATTENTION_THREADS, partialOut,
          partialMax, partialSum, step.decodeTokens(), numHeads, headDim, partitions, attended);
    }
    int numTiles = step.plan().numPrefillTiles();
    if (numTiles > 0) {
      launcher.launch(CudaKernel.ATTENTION_PREFILL, numTiles * numHeads, LaunchGeometry.ATTENTION_THREADS, q,
          cache.keys(), cache.values(), step.blockTables(), step.tokenSeq(), step.positions(), step.prefillTiles(),
          numHeads, numKvHeads, headDim, blockSize, maxBlocks, scale, attended);
    }
    gemm.linear(w.o(), attended, n, out);
    addBias(out, w.oBias(), n, config.hiddenSize());
  }

  private void addBias(DevicePointer x, DevicePointer bias, int rows, int width) {
    if (bias != null) {
      launcher.launch(CudaKernel.ADD_BIAS_ROWS, LaunchGeometry.blocksFor((long) rows * width,
          LaunchGeometry.ELEMENTWISE_THREADS), LaunchGeometry.ELEMENTWISE_THREADS, x, bias, rows, width);
    }
  }

  /** Qwen3: per head (weight of headDim); OLMoE: over the whole projection (weight of heads * headDim). */
  private void normalize(DevicePointer x, DevicePointer weight, int numTokens, int heads) {
    boolean perHead = config.qkNorm() == ModelConfig.QkNorm.PER_HEAD;
    int rows = perHead ? numTokens * heads : numTokens;
    int width = perHead ? config.headDim() : heads * config.headDim();
    launcher.launch(CudaKernel.RMS_NORM_ROWS, rows, LaunchGeometry.ELEMENTWISE_THREADS, x, weight, config.rmsNormEps(),
        rows, width, x);
  }

  private void clamp(DevicePointer x, int count, float limit) {
    launcher.launch(CudaKernel.CLAMP_VALUES, LaunchGeometry.blocksFor(count, LaunchGeometry.ELEMENTWISE_THREADS),
        LaunchGeometry.ELEMENTWISE_THREADS, x, count, limit);
  }
}
