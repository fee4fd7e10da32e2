package io.moestream.engine.plan;

import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.DType;
import io.moestream.engine.format.TensorData;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The bytes of a checkpoint's weights, from its safetensors headers alone (no weight is read).
 *
 * @param mappedByKind bytes of each kind as stored in the files, which the engine maps and reads in place
 *     (FP8 codes and their block scales at their stored sizes)
 * @param heapCopiedBytes what the engine copies onto the heap as float32: 1-D tensors (norm weights,
 *     biases, score correction biases, gpt-oss's stacked expert biases) and FP8 block scales ({@code *_scale_inv})
 * @param deviceBytes what the CUDA backend uploads: every matrix as BF16, 1-D tensors as float32
 */
public record WeightBytes(Map<WeightKind, Long> mappedByKind, long heapCopiedBytes, long deviceBytes) {

  public WeightBytes {
    mappedByKind = Collections.unmodifiableMap(new EnumMap<>(mappedByKind));
  }

  /**
   * The weights of the checkpoint's first {@code numLayers} decoder layers and the rest of the model:
   * layers beyond the config's (next-token-prediction layers) are skipped by the engine, never read.
   */
  public static WeightBytes of(Checkpoint checkpoint, int numLayers) {
    EnumMap<WeightKind, Long> mapped = new EnumMap<>(WeightKind.class);
    for (WeightKind kind : WeightKind.values()) {
      mapped.put(kind, 0L);
    }
    long heap = 0;
    long device = 0;
    for (TensorData tensor : checkpoint.tensors().values()) {
      if (beyond(tensor.name(), numLayers)) {
        continue;
      }
      long elements = tensor.numElements();
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
    return new WeightBytes(mapped, heap, device);
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
