package io.moestream.engine.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.MatmulInput;
import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.kernel.ScalarKernels;
import io.moestream.engine.kernel.VectorKernels;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tensors over one mapping window, up to Kimi-K2's 2.35 GB LM head (163840 x 7168 BF16, over 2 GiB),
 * written as sparse files: only the header and a few rows near the window boundaries and at the end
 * hold data, the rest reads as zeros without taking disk.
 */
class SafetensorsLargeTensorTest {
  private static final int ROWS = 163_840;
  private static final int COLS = 7168;
  private static final long ROW_BYTES = COLS * 2L;

  @TempDir
  Path dir;

  /** Writes a header for one tensor and makes the file sparse at its full length; returns the data start. */
  private static long writeHeader(RandomAccessFile file, String name, String dtype, long rows, long cols,
      long bytes) throws IOException {
    String json = "{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + rows + "," + cols
        + "],\"data_offsets\":[0," + bytes + "]}}";
    StringBuilder header = new StringBuilder(json);
    while ((8 + header.length()) % 8 != 0) {
      header.append(' ');
    }
    ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length());
    file.write(length.array());
    file.write(header.toString().getBytes(StandardCharsets.US_ASCII));
    long dataStart = 8 + header.length();
    file.setLength(dataStart + bytes);
    return dataStart;
  }

  private static float rowValue(int row, int col) {
    return (float) ((row % 97) - 48) / 16f + (col % 13) / 64f;
  }

  @Test
  void aBf16MatrixOver2GiBIsReadAcrossWindows() throws IOException {
    Path path = dir.resolve("lm_head.safetensors");
    long rowsPerWindow = SafetensorsFile.MAX_WINDOW_BYTES / ROW_BYTES;
    int[] written = {0, (int) rowsPerWindow - 1, (int) rowsPerWindow, 2 * (int) rowsPerWindow - 1,
        2 * (int) rowsPerWindow, ROWS - 1};
    try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
      long dataStart = writeHeader(file, "lm_head.weight", "BF16", ROWS, COLS, ROWS * ROW_BYTES);
      for (int row : written) {
        ByteBuffer bytes = ByteBuffer.allocate((int) ROW_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int c = 0; c < COLS; c++) {
          bytes.putShort(Numerics.floatToBf16(rowValue(row, c)));
        }
        file.seek(dataStart + row * ROW_BYTES);
        file.write(bytes.array());
      }
    }
    TensorData tensor = SafetensorsFile.open(path).tensors().get("lm_head.weight");
    assertEquals(3, tensor.rowChunks());
    assertEquals(rowsPerWindow, tensor.rowsPerChunk());
    CheckpointException noView = assertThrows(CheckpointException.class, tensor::bytes);
    assertTrue(noView.getMessage().contains("'lm_head.weight'") && noView.getMessage().contains("3 mapped windows"),
        noView.getMessage());
    assertEquals(rowValue(ROWS - 1, 5), tensor.getFloat((ROWS - 1L) * COLS + 5), 1e-2);

    Matrix w = Matrix.of(tensor);
    assertEquals(3, w.partCount());
    float[] row = new float[COLS];
    for (int r : written) {
      w.copyRow(r, row, 0);
      for (int c = 0; c < COLS; c += 101) {
        assertEquals(Numerics.bf16ToFloat(Numerics.floatToBf16(rowValue(r, c))), row[c], "row " + r + " col " + c);
        assertEquals(row[c], w.get(r, c), "get(" + r + ", " + c + ")");
      }
    }
    w.copyRow(12345, row, 0);
    assertEquals(0f, row[7]); // a hole of the sparse file

    // the matmul over rows on both sides of each boundary and at the end, vector kernels against the
    // scalar twin; the rows that hold data must give their own dot product
    float[] x = new float[2 * COLS];
    SplittableRandom random = new SplittableRandom(3);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 2 - 1);
    }
    MatmulInput input = MatmulInput.of(x, 2, COLS);
    for (int[] range : new int[][] {{written[1] - 2, written[2] + 3}, {written[3] - 1, written[4] + 1},
        {ROWS - 4, ROWS}}) {
      float[] vector = new float[2 * ROWS];
      float[] scalar = new float[2 * ROWS];
      new VectorKernels().matmul(w, input, vector, range[0], range[1]);
      new ScalarKernels().matmul(w, input, scalar, range[0], range[1]);
      for (int t = 0; t < 2; t++) {
        for (int r = range[0]; r < range[1]; r++) {
          float want = scalar[t * ROWS + r];
          assertEquals(want, vector[t * ROWS + r], 1e-4f * Math.max(1, Math.abs(want)), "token " + t + " row " + r);
        }
      }
      if (range[1] == ROWS) {
        assertEquals(dot(w, written[5], x, 1), scalar[ROWS + written[5]], 1e-3);
      }
    }
  }

  private static double dot(Matrix w, int row, float[] x, int token) {
    double sum = 0;
    for (int c = 0; c < COLS; c++) {
      sum += (double) w.get(row, c) * x[token * COLS + c];
    }
    return sum;
  }

  @Test
  void fp8PartsReadTheirOwnBlockScales() throws IOException {
    // 40 rows of 96 FP8 codes in 16 x 32 blocks, mapped in windows of 7 rows: parts start mid-block
    int rows = 40;
    int cols = 96;
    float[] values = new float[rows * cols];
    SplittableRandom random = new SplittableRandom(5);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) ((random.nextDouble() * 2 - 1) * (1 + i / cols));
    }
    Matrix whole = Matrix.fp8FromFloats("w", rows, cols, values, 16, 32);
    byte[] codes = new byte[rows * cols];
    float[] scales = new float[3 * 3];
    Matrix.fp8Quantize(values, rows, cols, 16, 32, codes, scales);
    Path path = dir.resolve("fp8.safetensors");
    new SafetensorsWriter().addRaw("w", DType.F8_E4M3, new long[] {rows, cols}, codes).write(path);
    TensorData tensor = SafetensorsFile.open(path, 7L * cols).tensors().get("w");
    assertEquals(6, tensor.rowChunks());
    Matrix split = Matrix.fp8(tensor, scales, 16, 32);
    assertEquals(6, split.partCount());
    float[] x = new float[5 * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 2 - 1);
    }
    MatmulInput input = MatmulInput.of(x, 5, cols);
    for (Kernels kernels : new Kernels[] {new ScalarKernels(), new VectorKernels()}) {
      float[] want = new float[5 * rows];
      float[] got = new float[5 * rows];
      kernels.matmul(whole, input, want, 0, rows);
      kernels.matmul(split, input, got, 3, 30);
      kernels.matmul(split, input, got, 0, 3);
      kernels.matmul(split, input, got, 30, rows);
      for (int i = 0; i < want.length; i++) {
        assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), kernels + " output " + i);
      }
    }
    float[] a = new float[cols];
    float[] b = new float[cols];
    for (int r = 0; r < rows; r++) {
      whole.copyRow(r, a, 0);
      split.copyRow(r, b, 0);
      for (int c = 0; c < cols; c++) {
        assertEquals(a[c], b[c]);
        assertEquals(a[c], split.get(r, c));
      }
    }
  }

  @Test
  void tensorsThatCannotBeSplitByRowsAreRefusedByName() throws IOException {
    Path path = dir.resolve("odd.safetensors");
    new SafetensorsWriter().add("norm.weight", DType.F32, new long[] {64}, new float[64]).write(path);
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(path, 128));
    assertTrue(e.getMessage().contains("'norm.weight'") && e.getMessage().contains("256 bytes")
        && e.getMessage().contains("rank 2"), e.getMessage());
    Path wide = dir.resolve("wide.safetensors");
    new SafetensorsWriter().add("w", DType.F32, new long[] {2, 64}, new float[128]).write(wide);
    e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(wide, 128));
    assertTrue(e.getMessage().contains("one row of 256 bytes does not fit"), e.getMessage());
  }
}
