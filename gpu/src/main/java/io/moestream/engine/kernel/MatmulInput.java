package io.moestream.engine.kernel;

import jdk.incubator.vector.FloatVector;

/**
 * The activations a matmul multiplies: {@code numTokens} rows of {@code cols} floats, plus the same
 * values in the "paired" order the 16-bit weight kernels read.
 *
 * <p>Why paired: a vector of 2L bf16 weights loaded as L ints holds even elements in the low halves and
 * odd elements in the high halves. Shifting/masking gives two float vectors (evens, odds) without any
 * lane shuffle, so the activations are stored per block of 2L columns as L evens then L odds. Columns
 * past the last full block keep their plain order. Built once per matmul input, shared by every
 * matrix that reads it (q/k/v, or an expert's gate and up projections).
 */
public final class MatmulInput {
  static final int LANES = FloatVector.SPECIES_PREFERRED.length();
  /** Columns per 16-bit block: one int vector of weights holds this many bf16/f16 values. */
  static final int PAIR_BLOCK = 2 * LANES;

  final float[] plain; // (numTokens, cols)
  final float[] paired; // (numTokens, cols), blocks of PAIR_BLOCK stored as evens then odds
  final int numTokens;
  final int cols;

  private MatmulInput(float[] plain, int numTokens, int cols) {
    this.plain = plain;
    this.numTokens = numTokens;
    this.cols = cols;
    this.paired = new float[numTokens * cols];
    int fullBlocks = cols / PAIR_BLOCK;
    for (int t = 0; t < numTokens; t++) {
      int base = t * cols;
      for (int b = 0; b < fullBlocks; b++) {
        int blockStart = base + b * PAIR_BLOCK;
        for (int i = 0; i < LANES; i++) {
          paired[blockStart + i] = plain[blockStart + 2 * i];
          paired[blockStart + LANES + i] = plain[blockStart + 2 * i + 1];
        }
      }
      for (int c = fullBlocks * PAIR_BLOCK; c < cols; c++) {
        paired[base + c] = plain[base + c];
      }
    }
  }

  /** Wraps {@code values} (numTokens, cols) without copying the plain order. */
  public static MatmulInput of(float[] values, int numTokens, int cols) {
    if (values.length < numTokens * cols) {
      throw new IllegalArgumentException("input holds " + values.length + " values, needs " + numTokens * cols);
    }
    return new MatmulInput(values, numTokens, cols);
  }

  public int numTokens() {
    return numTokens;
  }

  public int cols() {
    return cols;
  }
}
