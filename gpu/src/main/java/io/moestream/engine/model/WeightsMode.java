package io.moestream.engine.model;

import java.util.Locale;

/**
 * How the engine holds a checkpoint's weights: {@code --weights} on the CLI, {@code model.weights} in the job.
 */
public enum WeightsMode {
  /** As stored (BF16, F16, F32, FP8 or MXFP4), read in place from the memory-mapped files. */
  CHECKPOINT,
  /**
   * 16- and 32-bit projections quantized at load to ggml's Q8_0 and held in memory ({@link Int8Weights});
   * already-quantized FP8 and MXFP4 weights, routers, norms and embeddings stay as stored.
   */
  INT8;

  /** The option's spelling: {@code checkpoint} or {@code int8}. */
  public String optionValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The mode spelled {@code value}, or an error naming {@code field} and the value. */
  public static WeightsMode parse(String value, String field) {
    for (WeightsMode mode : values()) {
      if (mode.optionValue().equals(value)) {
        return mode;
      }
    }
    throw new IllegalArgumentException(field + " must be 'checkpoint' or 'int8', found '" + value + "'");
  }
}
