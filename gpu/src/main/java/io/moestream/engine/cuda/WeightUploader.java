package io.moestream.engine.cuda;

import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemHostAlloc;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.moestream.engine.kernel.Matrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import jcuda.Pointer;
import jcuda.driver.CUstream;

/**
 * Uploads matrices as BF16 through two pinned buffers on two streams: while one chunk is copied to the
 * device the next is filled on the host, so the load runs at about the slower of filling and PCIe instead
 * of their sum. Filling a chunk is a raw copy for BF16 weights and a conversion on all cores for F16/F32
 * ({@link Bf16Conversion#rowsParallel}).
 */
final class WeightUploader implements AutoCloseable {
  private static final long CHUNK_BYTES = 32L << 20;

  private final DeviceMemory memory;
  private final Pointer[] pinned = {new Pointer(), new Pointer()};
  private final ByteBuffer[] buffers = new ByteBuffer[2];
  private final CUstream[] streams = {new CUstream(), new CUstream()};
  private final int threads = Runtime.getRuntime().availableProcessors();
  private final ExecutorService converters = Executors.newFixedThreadPool(threads, task -> {
    Thread thread = new Thread(task, "bf16-conversion");
    thread.setDaemon(true);
    return thread;
  });
  private int next;

  WeightUploader(DeviceMemory memory) {
    this.memory = memory;
    for (int i = 0; i < 2; i++) {
      cuMemHostAlloc(pinned[i], CHUNK_BYTES, 0);
      buffers[i] = pinned[i].getByteBuffer(0, CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      cuStreamCreate(streams[i], 0);
    }
  }

  /**
   * One allocation holding the non-null matrices back to back, and its address table.
   *
   * @param matrices of one shape; null entries (pruned experts) take no space and get address 0
   */
  DeviceWeights.MatrixSet set(Matrix[] matrices) {
    Matrix shape = null;
    long total = 0;
    for (Matrix m : matrices) {
      if (m != null) {
        Bf16Conversion.checkSupported(m);
        if (shape != null && (m.rows() != shape.rows() || m.cols() != shape.cols())) {
          throw new IllegalArgumentException(m.name() + " is " + m.rows() + "x" + m.cols() + ", its set "
              + shape.rows() + "x" + shape.cols());
        }
        shape = m;
        total += 2L * m.rows() * m.cols();
      }
    }
    if (shape == null) {
      throw new IllegalArgumentException("a matrix set needs at least one matrix");
    }
    DevicePointer base = memory.alloc(total);
    long[] addresses = new long[matrices.length];
    long offset = 0;
    for (int i = 0; i < matrices.length; i++) {
      if (matrices[i] != null) {
        addresses[i] = base.address() + offset;
        upload(matrices[i], base.plus(offset));
        offset += 2L * shape.rows() * shape.cols();
      }
    }
    finish();
    return new DeviceWeights.MatrixSet(memory.upload(addresses), base, matrices.length, shape.rows(), shape.cols());
  }

  private void upload(Matrix m, DevicePointer target) {
    int rowsPerChunk = Bf16Conversion.rowsPerChunk(m, CHUNK_BYTES);
    long rowBytes = 2L * m.cols();
    for (int row = 0; row < m.rows(); row += rowsPerChunk) {
      int end = Math.min(m.rows(), row + rowsPerChunk);
      int b = next;
      next ^= 1;
      cuStreamSynchronize(streams[b]); // this buffer's previous copy has finished
      ByteBuffer buffer = buffers[b];
      buffer.clear();
      Bf16Conversion.rowsParallel(m, row, end, buffer, converters, threads);
      cuMemcpyHtoDAsync(target.plus(row * rowBytes), pinned[b], (end - row) * rowBytes, streams[b]);
    }
  }

  /** Waits for every queued copy. */
  void finish() {
    for (CUstream stream : streams) {
      cuStreamSynchronize(stream);
    }
  }

  @Override
  public void close() {
    converters.shutdownNow();
    finish();
    for (int i = 0; i < 2; i++) {
      cuMemFreeHost(pinned[i]);
      cuStreamDestroy(streams[i]);
    }
  }
}
