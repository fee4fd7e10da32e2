package io.moestream.engine.testmodel;

import io.moestream.engine.format.DType;
import java.util.Arrays;

/**
 * One tensor of a Hugging Face checkpoint as its family's release holds it: name, dtype, shape, and the
 * role that decides how a random-weight model fills it.
 *
 * @param shape (rows, cols) for matrices, (n) for vectors
 */
public record CheckpointTensor(String name, DType dtype, long[] shape, Role role) {

  /** What a tensor is, for the values a random-weight model gives it. */
  public enum Role {
    /** A weight matrix read as x @ W^T: embeddings, projections, the LM head. Uniform, std 1/sqrt(cols). */
    MATRIX,
    /** The router (HF's "gate"): a larger scale spreads routing scores, so top-k choices are not ties. */
    ROUTER,
    /** An F8_E4M3 weight: the codes of a {@link #MATRIX} quantized by 128-row blocks. */
    FP8_WEIGHT,
    /** The F32 {@code weight_scale_inv} of the {@link #FP8_WEIGHT} just before it. */
    FP8_SCALE,
    /** RMSNorm weights: near 1. */
    NORM,
    /** Attention biases: small. */
    BIAS,
    /** DeepSeek-V3's e_score_correction_bias: small, F32 as released. */
    SCORE_BIAS,
    /** gpt-oss's stacked expert biases, (numExperts, n): small. */
    STACKED_BIAS,
    /** gpt-oss's BF16 stacked experts, (numExperts, in, out): each expert a matrix stored transposed. */
    STACKED_TRANSPOSED,
    /** gpt-oss's U8 MXFP4 codes, (numExperts, rows, cols / 32, 16): two random E2M1 codes a byte. */
    MXFP4_BLOCKS,
    /** gpt-oss's U8 E8M0 scales, (numExperts, rows, cols / 32): 2^(e - 127) near 1 / sqrt(cols), never 0xFF. */
    MXFP4_SCALES
  }

  public CheckpointTensor {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public long elements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  public long byteSize() {
    return elements() * dtype.byteSize();
  }

  /** The same tensor with another shape (tests of misshapen checkpoints). */
  public CheckpointTensor withShape(long... newShape) {
    return new CheckpointTensor(name, dtype, newShape, role);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CheckpointTensor t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
        && role == t.role;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape);
  }
}
