package io.moestream.engine.cuda;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.Numerics;
import io.moestream.engine.kernel.Matrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Weights go to the device as BF16, whatever the checkpoint stores: BF16 unchanged (bit for bit), F16
 * and F32 rounded to nearest even. FP8 (DeepSeek-V3) has its own kernels in a later step.
 *
 * <p>{@link #rowsParallel} is what the upload uses: BF16 rows are copied as stored (no per-value work), and
 * F16/F32 rows are converted by several threads over disjoint row ranges, so a 30B checkpoint's load is not
 * bound by one Java thread. Every value's conversion is {@link Numerics#floatToBf16}, so the result is bit
 * for bit that of {@link #rows} whatever the split.
 */
final class Bf16Conversion {
  private Bf16Conversion() {}

  static void checkSupported(Matrix m) {
    if (m.dtype() != DType.BF16 && m.dtype() != DType.F16 && m.dtype() != DType.F32) {
      throw new UnsupportedOperationException(m.name() + ": the CUDA backend uploads BF16, F16 and F32 weights; "
          + m.dtype() + " kernels are not written yet (use --backend cpu)");
    }
  }

  /**
   * Rows [rowStart, rowEnd) of {@code m} as little-endian BF16 into {@code out} from its position on.
   *
   * @param scratch at least m.cols() floats
   */
  static void rows(Matrix m, int rowStart, int rowEnd, ByteBuffer out, float[] scratch) {
    ByteBuffer target = out.order(ByteOrder.LITTLE_ENDIAN);
    for (int r = rowStart; r < rowEnd; r++) {
      m.copyRow(r, scratch, 0);
      for (int c = 0; c < m.cols(); c++) {
        target.putShort(Numerics.floatToBf16(scratch[c]));
      }
    }
  }

  /**
   * Rows [rowStart, rowEnd) of {@code m} as little-endian BF16 into {@code out} from its position on, which
   * ends past them: copied raw when {@code m} is BF16, else converted by up to {@code threads} tasks on
   * {@code pool}, each writing its own range of rows.
   */
  static void rowsParallel(Matrix m, int rowStart, int rowEnd, ByteBuffer out, ExecutorService pool, int threads) {
    int start = out.position();
    long rowBytes = 2L * m.cols();
    if (m.dtype() == DType.BF16) {
      m.copyRawRows(rowStart, rowEnd, out);
      return;
    }
    int rows = rowEnd - rowStart;
    int tasks = Math.max(1, Math.min(threads, rows));
    List<Callable<Void>> work = new ArrayList<>(tasks);
    for (int t = 0; t < tasks; t++) {
      int from = rowStart + (int) ((long) rows * t / tasks);
      int to = rowStart + (int) ((long) rows * (t + 1) / tasks);
      ByteBuffer range = out.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      range.position(Math.toIntExact(start + (from - rowStart) * rowBytes));
      work.add(() -> {
        rows(m, from, to, range, new float[m.cols()]);
        return null;
      });
    }
    try {
      for (Future<Void> done : pool.invokeAll(work)) {
        done.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(m.name() + ": interrupted while converting to BF16", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(m.name() + ": converting rows " + rowStart + ".." + rowEnd + " to BF16 failed",
          e.getCause());
    }
    out.position(Math.toIntExact(start + rows * rowBytes));
  }

  /** Rows per upload chunk so one chunk stays near {@code chunkBytes}. */
  static int rowsPerChunk(Matrix m, long chunkBytes) {
    return (int) Math.max(1, Math.min(m.rows(), chunkBytes / (2L * m.cols())));
  }
}
