package io.moestream.engine.testmodel;

import io.moestream.engine.format.SafetensorsWriter;
import io.moestream.engine.kernel.Matrix;

/**
 * A random (rows, cols) weight as FP8 E4M3 codes, produced one block row (blockRows rows) at a time while
 * the file is written, so a 130M-element projection needs one block row of floats, not the whole matrix.
 * The values are {@link TestModelWriter#matrix}'s at scale 1 (uniform, std 1/sqrt(cols), from the seed and
 * the name); the block scales are known once every code has been written, which the file order
 * guarantees: {@code <name>_scale_inv} comes after {@code <name>}.
 */
final class Fp8RandomMatrix implements SafetensorsWriter.ByteSource {
  private final String name;
  private final int rows;
  private final int cols;
  private final int blockRows;
  private final int blockCols;
  private final SafetensorsWriter.ValueSource values;
  /** (ceil(rows / blockRows), ceil(cols / blockCols)), filled block row by block row. */
  private final float[] scales;
  private final int scaleCols;
  private float[] slabValues;
  private byte[] slabCodes;
  private float[] slabScales;
  /** First byte of the codes not yet handed out; the block row holding it is in slabCodes. */
  private long position;
  private int slab = -1;

  Fp8RandomMatrix(long seed, String name, int rows, int cols, int blockRows, int blockCols) {
    this.name = name;
    this.rows = rows;
    this.cols = cols;
    this.blockRows = blockRows;
    this.blockCols = blockCols;
    double bound = Math.sqrt(3.0 / cols);
    this.values = TestModelWriter.uniform(seed, name, -bound, bound);
    this.scaleCols = (cols + blockCols - 1) / blockCols;
    this.scales = new float[((rows + blockRows - 1) / blockRows) * scaleCols];
  }

  String scaleName() {
    return name + "_scale_inv";
  }

  long[] scaleShape() {
    return new long[] {scales.length / scaleCols, scaleCols};
  }

  @Override
  public void fill(byte[] buffer, long start, int count) {
    if (start != position) {
      throw new IllegalStateException(name + ": FP8 codes must be read in order (at " + position + ", asked " + start + ")");
    }
    int done = 0;
    while (done < count) {
      long slabBytes = (long) blockRows * cols;
      int wanted = (int) (position / slabBytes);
      if (wanted != slab) {
        quantizeSlab(wanted);
      }
      int offset = (int) (position - wanted * slabBytes);
      int n = Math.min(count - done, slabCodes.length - offset);
      System.arraycopy(slabCodes, offset, buffer, done, n);
      done += n;
      position += n;
    }
  }

  private void quantizeSlab(int index) {
    int slabRows = Math.min(blockRows, rows - index * blockRows);
    if (slabValues == null || slabValues.length != slabRows * cols) {
      slabValues = new float[slabRows * cols];
      slabCodes = new byte[slabRows * cols];
      slabScales = new float[scaleCols];
    }
    values.fill(slabValues, (long) index * blockRows * cols, slabValues.length);
    Matrix.fp8Quantize(slabValues, slabRows, cols, blockRows, blockCols, slabCodes, slabScales);
    System.arraycopy(slabScales, 0, scales, index * scaleCols, scaleCols);
    slab = index;
  }

  /** The block scales, readable once all rows * cols codes have been read. */
  SafetensorsWriter.ValueSource scales() {
    return (buffer, start, count) -> {
      if (position != (long) rows * cols) {
        throw new IllegalStateException(name + "_scale_inv: written before all of " + name + "'s codes");
      }
      System.arraycopy(scales, (int) start, buffer, 0, count);
    };
  }
}
