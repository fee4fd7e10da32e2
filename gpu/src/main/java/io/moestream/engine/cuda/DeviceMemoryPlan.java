package io.moestream.engine.cuda;

import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.AttentionWeights;
import io.moestream.engine.model.ExpertWeights;
import io.moestream.engine.model.LayerWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.model.MoeWeights;

/**
 * What the CUDA backend will hold on its device, counted before anything is allocated, so a model that does
 * not fit fails at once with both numbers instead of with CUDA_ERROR_OUT_OF_MEMORY halfway through a
 * minutes-long upload (or, worse, in the first large step). Needs no GPU: the free bytes come from
 * cuMemGetInfo in {@link CudaBackend} and are passed in.
 *
 * @param weightBytes every matrix as BF16 (pruned experts excluded), norms and biases as float32, set tables
 * @param kvCacheBytes the device KV pages (float32 keys and values of every layer, {@link DeviceKvCache})
 * @param scratchBytes the step buffers at the largest step ({@link DeviceScratch}, with its growth slack)
 * @param reserveBytes the CUDA context, loaded kernels and flash-decoding partials, not counted one by one
 */
public record DeviceMemoryPlan(long weightBytes, long kvCacheBytes, long scratchBytes, long reserveBytes) {
  /** The primary context and the loaded PTX take a few hundred MiB on an H100; the rest covers attention partials. */
  static final long RESERVE_BYTES = 512L << 20;

  public long totalBytes() {
    return weightBytes + kvCacheBytes + scratchBytes + reserveBytes;
  }

  /** The plan for {@code weights} with the device pages of {@code cache} and steps of up to {@code maxStepTokens}. */
  public static DeviceMemoryPlan of(ModelWeights weights, PagedKvCache cache, int maxStepTokens) {
    long kvFloats = 2L * cache.numLayers() * cache.numBlocks() * cache.blockSize() * Math.max(cache.keyWidth(),
        cache.valueWidth());
    return new DeviceMemoryPlan(weightBytes(weights), kvFloats * Float.BYTES,
        scratchBytes(weights.config(), maxStepTokens), RESERVE_BYTES);
  }

  /**
   * Null when the plan fits {@code freeBytes}, else the error: the model, the device, what is needed (and of
   * what) and what cuMemGetInfo reports free.
   *
   * @param model names the model (its family and size)
   * @param device names the device ({@code cuda:0 NVIDIA H100 ...})
   */
  public String shortfall(long freeBytes, long totalDeviceBytes, String model, String device) {
    if (totalBytes() <= freeBytes) {
      return null;
    }
    return model + " needs " + mib(totalBytes()) + " on " + device + " (weights as BF16 " + mib(weightBytes)
        + " + KV cache " + mib(kvCacheBytes) + " + step scratch " + mib(scratchBytes) + " + context reserve "
        + mib(reserveBytes) + "), but cuMemGetInfo reports " + mib(freeBytes) + " free of " + mib(totalDeviceBytes)
        + ": lower --kv-cache-mb (model.kv_cache_mb) or --max-batch-tokens (model.max_batch_tokens), free the GPU"
        + " of other processes, or use a larger GPU (docs/CUDA.md: models larger than one GPU)";
  }

  static String mib(long bytes) {
    return (bytes >> 20) + " MiB (" + bytes + " bytes)";
  }

  /** What {@link DeviceWeights} allocates for {@code weights}. */
  static long weightBytes(ModelWeights weights) {
    long bytes = matrix(weights.embedTokens()) + floats(weights.finalNorm());
    if (weights.lmHead() != weights.embedTokens()) {
      bytes += matrix(weights.lmHead());
    }
    for (LayerWeights layer : weights.layers()) {
      AttentionWeights a = layer.attention();
      bytes += floats(layer.inputNorm()) + floats(layer.postAttentionNorm());
      if (a != null) {
        bytes += matrix(a.qProj()) + matrix(a.kProj()) + matrix(a.vProj()) + matrix(a.oProj()) + floats(a.qBias())
            + floats(a.kBias()) + floats(a.vBias()) + floats(a.qNorm()) + floats(a.kNorm()) + floats(a.oBias());
      }
      MoeWeights moe = layer.moe();
      if (moe != null) {
        bytes += matrix(moe.router()) + matrix(moe.sharedExpertGate()) + mlp(moe.sharedExpert());
        bytes += (long) Float.BYTES * moe.experts().length; // the pruned experts' logit bias, at most
        for (ExpertWeights expert : moe.experts()) {
          bytes += mlp(expert) + 3L * Long.BYTES; // three address table entries, one per projection set
        }
      }
      bytes += mlp(layer.denseMlp());
    }
    return bytes;
  }

  /**
   * The step buffers of a step of {@code tokens} tokens, every token wanting logits and taking the model's k
   * experts: activations, q/k/v, router scores, the MoE permutation, expert hidden states and outputs, the
   * shared expert and the logits, as 4-byte elements, times 1.5 because {@link DeviceScratch} grows each
   * buffer by half.
   */
  static long scratchBytes(ModelConfig c, int tokens) {
    long n = tokens;
    long k = Math.max(1, c.numExpertsPerTok());
    long hidden = c.hiddenSize();
    long elements = 3 * n * hidden // residual, normed, block output
        + 2 * n * c.qDim() + 2 * n * c.kvDim() // q, attended, k, v
        + Math.max(n * c.intermediateSize(), n * k * c.moeIntermediateSize()) // dense or expert hidden state
        + 2 * n * c.numExperts() + 4 * n * k // router logits, scores, candidates, weights, requested and selected k
        + n * k * hidden // expert outputs by pair
        + alignInts(n * k, c.numExperts()) // the device-built permutation (MoeAlign)
        + n * c.sharedExpertIntermediateSize() + 2 * n * hidden + n // shared expert, its gate, logit input
        + n * c.vocabSize() // logits
        + 16 * n; // token ids, positions, slots and the other per-token tables
    return elements * 4 * 3 / 2;
  }

  /** MoeAlign's buffers for {@code pairs} (token, slot) pairs: per-chunk counts, per-expert counts and starts, the layout. */
  private static long alignInts(long pairs, long experts) {
    long chunks = (pairs + MoeAlign.THREADS - 1) / MoeAlign.THREADS;
    long maxPadded = pairs + Math.min(experts, pairs) * (MoeAlign.BLOCK - 1);
    return chunks * (experts + 1) + 2 * experts + maxPadded + maxPadded / MoeAlign.BLOCK;
  }

  private static long matrix(Matrix m) {
    return m == null ? 0 : 2L * m.rows() * m.cols() + Long.BYTES;
  }

  private static long mlp(ExpertWeights w) {
    return w == null ? 0 : matrix(w.gateProj()) + matrix(w.upProj()) + matrix(w.downProj());
  }

  private static long floats(float[] values) {
    return values == null ? 0 : (long) values.length * Float.BYTES;
  }
}
