package io.moestream.engine.kernel;

import io.moestream.engine.format.Numerics;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matmul for FP8 E4M3 weights with block scales (DeepSeek-V3), dequantized in registers:
 * the weight bytes are read once and never widened in memory.
 *
 * <p>Decoding without a table: L codes are loaded as bytes and sign-extended to ints; the 7 magnitude
 * bits shifted left by 20 land exponent and mantissa in float position ({@code eeee} in the low exponent
 * bits, {@code mmm} at the top of the mantissa), and multiplying by 2^120 rebiases the exponent from
 * 127 to 7, which also turns E4M3 subnormals into the right float exactly. Bit 7 becomes the float's
 * sign. The only code decoded differently from {@link Numerics#e4m3ToFloat} is NaN (0x7F/0xFF), which a
 * quantized checkpoint never holds.
 *
 * <p>Per row, each column block's products are summed in a vector and folded into the row's
 * accumulator times the block's scale. One row x 1 or 4 tokens, with the same accumulation order for a
 * (row, token) in both tiles.
 */
final class MatmulFp8 {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
  private static final float REBIAS = 0x1p120f;

  private MatmulFp8() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    int tokens = x.numTokens;
    for (int r = rowStart; r < rowEnd; r++) {
      int t = 0;
      for (; t + 4 <= tokens; t += 4) {
        row1x4(w, x.plain, out, r, t);
      }
      for (; t < tokens; t++) {
        out[t * w.outRows + w.firstRow + r] = row1x1(w, x.plain, r, t * w.cols());
      }
    }
  }

  private static FloatVector decode(Matrix w, long byteOffset) {
    IntVector codes = (IntVector) VectorLoads.bytes(B, w.bytes, w.segment, byteOffset).castShape(I, 0);
    IntVector bits = codes.and(0x7F).lanewise(VectorOperators.LSHL, 20)
        .or(codes.and(0x80).lanewise(VectorOperators.LSHL, 24));
    return bits.reinterpretAsFloats().mul(REBIAS);
  }

  private static float row1x1(Matrix w, float[] xs, int r, int xBase) {
    int cols = w.cols();
    long rowBytes = (long) r * cols;
    int scaleRow = ((w.firstRow + r) / w.blockRows) * w.scaleCols;
    FloatVector acc = FloatVector.zero(F);
    float tail = 0;
    for (int block = 0, c0 = 0; c0 < cols; block++, c0 += w.blockCols) {
      int c1 = Math.min(cols, c0 + w.blockCols);
      float scale = w.blockScales[scaleRow + block];
      FloatVector sum = FloatVector.zero(F);
      int c = c0;
      for (; c + L <= c1; c += L) {
        sum = decode(w, rowBytes + c).fma(FloatVector.fromArray(F, xs, xBase + c), sum);
      }
      acc = sum.fma(FloatVector.broadcast(F, scale), acc);
      for (; c < c1; c++) {
        tail += Numerics.e4m3ToFloat(w.bytes.get((int) (rowBytes + c))) * scale * xs[xBase + c];
      }
    }
    return Reductions.sum(acc) + tail;
  }

  private static void row1x4(Matrix w, float[] xs, float[] out, int r, int t) {
    int cols = w.cols();
    long rowBytes = (long) r * cols;
    int scaleRow = ((w.firstRow + r) / w.blockRows) * w.scaleCols;
    int x0 = t * cols;
    int x1 = x0 + cols;
    int x2 = x1 + cols;
    int x3 = x2 + cols;
    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
    float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (int block = 0, c0 = 0; c0 < cols; block++, c0 += w.blockCols) {
      int c1 = Math.min(cols, c0 + w.blockCols);
      float scale = w.blockScales[scaleRow + block];
      FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
      int c = c0;
      for (; c + L <= c1; c += L) {
        FloatVector wv = decode(w, rowBytes + c);
        s0 = wv.fma(FloatVector.fromArray(F, xs, x0 + c), s0);
        s1 = wv.fma(FloatVector.fromArray(F, xs, x1 + c), s1);
        s2 = wv.fma(FloatVector.fromArray(F, xs, x2 + c), s2);
        s3 = wv.fma(FloatVector.fromArray(F, xs, x3 + c), s3);
      }
      FloatVector scaleVector = FloatVector.broadcast(F, scale);
      a0 = s0.fma(scaleVector, a0);
      a1 = s1.fma(scaleVector, a1);
      a2 = s2.fma(scaleVector, a2);
      a3 = s3.fma(scaleVector, a3);
      for (; c < c1; c++) {
        float wc = Numerics.e4m3ToFloat(w.bytes.get((int) (rowBytes + c))) * scale;
        t0 += wc * xs[x0 + c];
        t1 += wc * xs[x1 + c];
        t2 += wc * xs[x2 + c];
        t3 += wc * xs[x3 + c];
      }
    }
    out[t * w.outRows + w.firstRow + r] = Reductions.sum(a0) + t0;
    out[(t + 1) * w.outRows + w.firstRow + r] = Reductions.sum(a1) + t1;
    out[(t + 2) * w.outRows + w.firstRow + r] = Reductions.sum(a2) + t2;
    out[(t + 3) * w.outRows + w.firstRow + r] = Reductions.sum(a3) + t3;
  }
}
