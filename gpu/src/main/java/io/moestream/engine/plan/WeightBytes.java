package io.moestream.engine.plan;

import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.DType;
import io.moestream.engine.format.TensorData;
import io.moestream.engine.kernel.Q8Blocks;
import io.moestream.engine.model.Int8Weights;
import io.moestream.engine.model.WeightsMode;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The bytes of a checkpoint's weights, from its safetensors headers alone (no weight is read).
 *
 * @param mappedByKind bytes of each kind as stored in the files, which the engine maps and reads in place
 *     (FP8 codes and their block scales at their stored sizes); with weights int8, without the tensors it
 *     quantizes (read once at load, their pages then go cold)
 * @param heapCopiedBytes what the engine copies onto the heap as float32: 1-D tensors (norm weights,
 *     biases, score correction biases, gpt-oss's stacked expert biases) and FP8 block scales ({@code *_scale_inv})
 * @param deviceBytes what the CUDA backend uploads: every matrix as BF16, 1-D tensors as float32
 * @param int8Bytes weights int8: the Q8_0 codes and float32 scales {@link Int8Weights} holds in direct memory
 *     (1.125 bytes a value) in place of the mapped projections; 0 with the weights as stored
 */
public record WeightBytes(Map<WeightKind, Long> mappedByKind, long heapCopiedBytes, long deviceBytes,
    long int8Bytes) {

  public WeightBytes {
    mappedByKind = Collections.unmodifiableMap(new EnumMap<>(mappedByKind));
  }

  /**
   * The weights of the checkpoint's first {@code numLayers} decoder layers and the rest of the model:
   * layers beyond the config's (next-token-prediction layers) are skipped by the engine, never read.
   */
  public static WeightBytes of(Checkpoint checkpoint, int numLayers) {
    return of(checkpoint, numLayers, WeightsMode.CHECKPOINT, false);
  }

  /**
   * The same under {@code mode}; {@code tiedLmHead}: the config ties the LM head to the embedding, so with
   * weights int8 the embedding's values get an int8 copy when the checkpoint has no {@code lm_head.weight}.
   */
  public static WeightBytes of(Checkpoint checkpoint, int numLayers, WeightsMode mode, boolean tiedLmHead) {
    EnumMap<WeightKind, Long> mapped = new EnumMap<>(WeightKind.class);
    for (WeightKind kind : WeightKind.values()) {
      mapped.put(kind, 0L);
    }
    long heap = 0;
    long device = 0;
    long int8 = 0;
    boolean int8Mode = mode == WeightsMode.INT8;
    boolean copyEmbedding = int8Mode && tiedLmHead && !checkpoint.tensors().containsKey("lm_head.weight");
    for (TensorData tensor : checkpoint.tensors().values()) {
      if (beyond(tensor.name(), numLayers)) {
        continue;
      }
      long elements = tensor.numElements();
      if (copyEmbedding && tensor.name().equals("model.embed_tokens.weight") && Int8Weights.quantizes(tensor.dtype())) {
        int8 += int8Bytes(tensor); // the tied LM head's copy; the embedding stays mapped
      }
      if (int8Mode && quantizedAtLoad(tensor)) {
        int8 += int8Bytes(tensor);
        device += elements * DType.BF16.byteSize();
        continue;
      }
      mapped.merge(WeightKind.of(tensor.name()), elements * tensor.dtype().byteSize(), Long::sum);
      boolean scales = tensor.name().endsWith("_scale_inv");
      // gpt-oss's stacked expert biases, (numExperts, n), are copied per expert like any bias; its MXFP4
      // *_scales stay mapped.
      boolean stackedBias = tensor.rank() == 2 && tensor.name().endsWith("_proj_bias");
      if (tensor.rank() == 1 || scales || stackedBias) {
        heap += elements * Float.BYTES; // TensorChecker.vector / the FP8 scales: float32 copies
      }
      if (!scales) {
        device += elements * (tensor.rank() == 1 ? Float.BYTES : DType.BF16.byteSize());
      }
    }
    return new WeightBytes(mapped, heap, device, int8);
  }

  /**
   * What {@link Q8Blocks} holds for a quantized tensor: codes and a float per 32 of them, rows padded to groups of
   * 16. A rank-3 tensor is gpt-oss's stacked experts, (numExperts, in, out): each expert a transposed (out, in)
   * matrix.
   */
  private static long int8Bytes(TensorData tensor) {
    if (tensor.rank() == 3) {
      return tensor.dim(0) * Q8Blocks.bytes(tensor.dim(2), tensor.dim(1));
    }
    return Q8Blocks.bytes(tensor.dim(0), tensor.numElements() / tensor.dim(0));
  }

  /**
   * Whether {@link Int8Weights} quantizes this tensor: a 16- or 32-bit projection of attention, experts,
   * shared experts, dense MLPs or the LM head (also gpt-oss's stacked BF16 experts); not routers, the
   * shared-expert gate, norms, biases, FP8 block scales or the embedding.
   */
  static boolean quantizedAtLoad(TensorData tensor) {
    String name = tensor.name();
    WeightKind kind = WeightKind.of(name);
    boolean projectionKind = kind == WeightKind.ATTENTION || kind == WeightKind.ROUTED_EXPERTS
        || kind == WeightKind.SHARED_AND_DENSE_MLP || name.startsWith("lm_head.");
    return projectionKind && tensor.rank() >= 2 && Int8Weights.quantizes(tensor.dtype())
        && !name.endsWith("_bias") && !name.endsWith("_scale_inv") && !name.contains("shared_expert_gate");
  }

  public long mappedBytes() {
    return mappedByKind.values().stream().mapToLong(Long::longValue).sum();
  }

  public long mapped(WeightKind kind) {
    return mappedByKind.getOrDefault(kind, 0L);
  }

  private static boolean beyond(String name, int numLayers) {
    String prefix = "model.layers.";
    int end = name.indexOf('.', prefix.length());
    if (!name.startsWith(prefix) || end <= prefix.length()) {
      return false;
    }
    try {
      return Integer.parseInt(name.substring(prefix.length(), end)) >= numLayers;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
