package io.moestream.engine.kernel;

import io.moestream.engine.format.Numerics;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matmul for MXFP4 weights (gpt-oss's experts), dequantized in registers: the packed
 * codes and the E8M0 scales are read where the checkpoint maps them.
 *
 * <p>L bytes hold 2L consecutive columns, the even column in each low nibble: sign-extended to L ints,
 * the low nibbles are the evens and the high nibbles the odds, which is exactly one block of
 * {@link MatmulInput}'s paired activations (L evens then L odds), so no lane shuffle is needed. A nibble
 * decodes without a table: its 3 magnitude bits shifted left by 22 put the 2 exponent bits at the bottom
 * of a float's exponent and the mantissa bit on top of its mantissa; times 2^126 rebiases the exponent
 * from 127 to E2M1's 1, which also makes the subnormal code 1 exactly 0.5. Bit 3 becomes the sign.
 *
 * <p>Per row, each block of 32 columns is summed in a vector and folded into the row's accumulator times
 * the block's 2^(e - 127). One row x 1 or 4 tokens with the same order for a (row, token) in both tiles,
 * so a token's result does not depend on its batch. Species whose float lane count does not divide 16
 * (no current CPU) use the scalar definition.
 */
final class MatmulMxfp4 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
  private static final float REBIAS = 0x1p126f;
  /** Bytes of one 32-value block of a row. */
  private static final int BLOCK_BYTES = Matrix.MXFP4_BLOCK / 2;

  private MatmulMxfp4() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    if (BLOCK_BYTES % L != 0) {
      new ScalarKernels().matmul(w, x, out, rowStart, rowEnd);
      return;
    }
    int tokens = x.numTokens;
    float[] paired = x.paired();
    for (int r = rowStart; r < rowEnd; r++) {
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        row1x4(w, paired, out, r, t);
      }
      for (; t < tokens; t++) {
        out[t * w.outRows + w.firstRow + r] = row1x1(w, paired, r, t * w.cols());
      }
    }
  }

  private static IntVector codes(Matrix w, long byteOffset) {
    return (IntVector) VectorLoads.bytes(B, w.bytes, w.segment, byteOffset).castShape(I, 0);
  }

  /** The values of 4-bit codes (in the low 4 bits of each lane) as floats, before the block's scale. */
  private static FloatVector decode(IntVector nibbles) {
    IntVector bits = nibbles.and(0x7).lanewise(VectorOperators.LSHL, 22)
        .or(nibbles.and(0x8).lanewise(VectorOperators.LSHL, 28));
    return bits.reinterpretAsFloats().mul(REBIAS);
  }

  private static float scale(Matrix w, int r, int block) {
    return Numerics.e8m0ToFloat(w.e8m0Scales.get(r * (w.cols() / Matrix.MXFP4_BLOCK) + block));
  }

  private static float row1x1(Matrix w, float[] xs, int r, int xBase) {
    int cols = w.cols();
    long rowBytes = (long) r * cols / 2;
    FloatVector acc = FloatVector.zero(F);
    for (int block = 0, c0 = 0; c0 < cols; block++, c0 += Matrix.MXFP4_BLOCK) {
      FloatVector sum = FloatVector.zero(F);
      for (int j = 0; j < BLOCK_BYTES; j += L) {
        IntVector packed = codes(w, rowBytes + c0 / 2 + j);
        int x = xBase + c0 + 2 * j;
        sum = decode(packed).fma(FloatVector.fromArray(F, xs, x), sum);
        sum = decode(packed.lanewise(VectorOperators.ASHR, 4)).fma(FloatVector.fromArray(F, xs, x + L), sum);
      }
      acc = sum.fma(FloatVector.broadcast(F, scale(w, r, block)), acc);
    }
    return Reductions.sum(acc);
  }

  private static void row1x4(Matrix w, float[] xs, float[] out, int r, int t) {
    int cols = w.cols();
    long rowBytes = (long) r * cols / 2;
    int x0 = t * cols;
    int x1 = x0 + cols;
    int x2 = x1 + cols;
    int x3 = x2 + cols;
    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
    for (int block = 0, c0 = 0; c0 < cols; block++, c0 += Matrix.MXFP4_BLOCK) {
      FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
      for (int j = 0; j < BLOCK_BYTES; j += L) {
        IntVector packed = codes(w, rowBytes + c0 / 2 + j);
        FloatVector evens = decode(packed);
        FloatVector odds = decode(packed.lanewise(VectorOperators.ASHR, 4));
        int c = c0 + 2 * j;
        s0 = evens.fma(FloatVector.fromArray(F, xs, x0 + c), s0);
        s0 = odds.fma(FloatVector.fromArray(F, xs, x0 + c + L), s0);
        s1 = evens.fma(FloatVector.fromArray(F, xs, x1 + c), s1);
        s1 = odds.fma(FloatVector.fromArray(F, xs, x1 + c + L), s1);
        s2 = evens.fma(FloatVector.fromArray(F, xs, x2 + c), s2);
        s2 = odds.fma(FloatVector.fromArray(F, xs, x2 + c + L), s2);
        s3 = evens.fma(FloatVector.fromArray(F, xs, x3 + c), s3);
        s3 = odds.fma(FloatVector.fromArray(F, xs, x3 + c + L), s3);
      }
      FloatVector scale = FloatVector.broadcast(F, scale(w, r, block));
      a0 = s0.fma(scale, a0);
      a1 = s1.fma(scale, a1);
      a2 = s2.fma(scale, a2);
      a3 = s3.fma(scale, a3);
    }
    out[t * w.outRows + w.firstRow + r] = Reductions.sum(a0);
    out[(t + 1) * w.outRows + w.firstRow + r] = Reductions.sum(a1);
    out[(t + 2) * w.outRows + w.firstRow + r] = Reductions.sum(a2);
    out[(t + 3) * w.outRows + w.firstRow + r] = Reductions.sum(a3);
  }
}
