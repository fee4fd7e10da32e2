package io.moestream.engine.kernel;

import io.moestream.engine.format.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matmul for a matrix stored transposed ({@code (cols, rows)} row-major: gpt-oss's BF16
 * expert tensors). A stored row holds one input column for every output row, so the kernel walks the
 * input columns and accumulates {@code x[t, c] * W[rows r..r+L, c]} into L output rows at once: each lane
 * is one output row, summed over c in order with fused multiply-adds. Rows past the last full vector take
 * the same order in scalar fma, so a (row, token) value depends neither on the row range nor on the batch.
 * F32 and BF16 are vectorized; F16 uses the scalar definition.
 */
final class MatmulTransposed {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));

  private MatmulTransposed() {}

  static void matmul(Matrix w, MatmulInput x, float[] out, int rowStart, int rowEnd) {
    if (w.dtype() == DType.F16) {
      new ScalarKernels().matmul(w, x, out, rowStart, rowEnd);
      return;
    }
    int rows = w.rows();
    int cols = w.cols();
    boolean bf16 = w.dtype() == DType.BF16;
    int vectorEnd = rowStart + (rowEnd - rowStart) / L * L;
    float[] acc = new float[rowEnd - rowStart];
    for (int t = 0; t < x.numTokens; t++) {
      java.util.Arrays.fill(acc, 0f);
      int xBase = t * cols;
      for (int c = 0; c < cols; c++) {
        float xc = x.plain[xBase + c];
        FloatVector xv = FloatVector.broadcast(F, xc);
        long stored = (long) c * rows;
        for (int r = rowStart; r < vectorEnd; r += L) {
          FloatVector wv = bf16 ? bf16s(w, (stored + r) * 2) : VectorLoads.floats(F, w.bytes, w.segment, (stored + r) * 4);
          wv.fma(xv, FloatVector.fromArray(F, acc, r - rowStart)).intoArray(acc, r - rowStart);
        }
        for (int r = vectorEnd; r < rowEnd; r++) {
          acc[r - rowStart] = Math.fma(element(w, bf16, stored + r), xc, acc[r - rowStart]);
        }
      }
      System.arraycopy(acc, 0, out, t * w.outRows + w.firstRow + rowStart, rowEnd - rowStart);
    }
  }

  /** L consecutive BF16 values widened to floats (a bf16 is the top half of a float). */
  private static FloatVector bf16s(Matrix w, long byteOffset) {
    ShortVector shorts = VectorLoads.shorts(S, w.bytes, w.segment, byteOffset);
    IntVector ints = (IntVector) shorts.castShape(I, 0);
    return ints.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  private static float element(Matrix w, boolean bf16, long index) {
    return bf16 ? Float.intBitsToFloat((w.bytes.getShort((int) (index * 2)) & 0xFFFF) << 16)
        : w.bytes.getFloat((int) (index * 4));
  }
}
