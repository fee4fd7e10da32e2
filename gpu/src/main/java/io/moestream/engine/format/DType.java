package io.moestream.engine.format;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Element types of safetensors tensors the engine reads. Names are the safetensors header names. */
public enum DType {
  F32(4),
  BF16(2),
  F16(2),
  /** FP8 E4M3 (DeepSeek-V3 weights with 128x128 block scales). */
  F8_E4M3(1),
  I64(8),
  I32(4),
  /** Raw bytes: gpt-oss's MXFP4 {@code *_blocks} (two E2M1 codes a byte) and {@code *_scales} (E8M0 exponents). */
  U8(1),
  /**
   * Not a safetensors dtype: the type of a {@code Matrix} read from a U8 {@code *_blocks} / {@code *_scales}
   * pair (OCP MXFP4: E2M1 values in blocks of 32 sharing one E8M0 scale). {@link #byteSize} is that of a
   * pair of values; a matrix's bytes are {@code rows * cols / 2} codes plus {@code rows * cols / 32} scales.
   */
  MXFP4(1),
  /**
   * Not a safetensors dtype: a {@code Matrix} quantized at load ({@code --weights int8}): ggml's Q8_0, int8
   * codes in blocks of 32 consecutive values of a row sharing one scale. {@link #byteSize} is that of a code;
   * the scales (one float per block) come on top.
   */
  Q8_0(1);

  private final int byteSize;

  DType(int byteSize) {
    this.byteSize = byteSize;
  }

  public int byteSize() {
    return byteSize;
  }

  /** The dtype for a safetensors header name, or an error naming the tensor and the bad value. */
  public static DType fromHeader(String name, String tensorName, String file) {
    for (DType type : values()) {
      if (type != MXFP4 && type != Q8_0 && type.name().equals(name)) {
        return type;
      }
    }
    throw new CheckpointException(
        file + ": tensor '" + tensorName + "' has dtype '" + name + "', which moestream does not read"
            + " (supported: " + Arrays.stream(values()).filter(t -> t != MXFP4 && t != Q8_0).map(Enum::name).collect(Collectors.joining(", "))
            + ")");
  }
}
