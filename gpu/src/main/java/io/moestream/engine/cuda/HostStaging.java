package io.moestream.engine.cuda;

import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemHostAlloc;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.CUstream;

/**
 * A pinned (page-locked) host buffer through which a step's small inputs go to the device and its
 * outputs come back, asynchronously on the step's stream: the host queues the copy and goes on
 * building the next inputs while the device works.
 *
 * <p>Space is handed out bump-style and never reused within a step, because a queued copy may not
 * have run yet; {@link #reset} is called when the stream is idle (the start of a step). When a step
 * needs more than the buffer holds, the stream is drained and the buffer starts over.
 */
final class HostStaging implements AutoCloseable {
  private final CUstream stream;
  private Pointer host = new Pointer();
  private ByteBuffer buffer;
  private long capacity;
  private long used;

  HostStaging(CUstream stream, long capacity) {
    this.stream = stream;
    allocate(capacity);
  }

  private void allocate(long size) {
    host = new Pointer();
    cuMemHostAlloc(host, size, 0);
    buffer = host.getByteBuffer(0, size).order(ByteOrder.nativeOrder());
    capacity = size;
    used = 0;
  }

  /** Call only when no copy through this buffer is pending. */
  void reset() {
    used = 0;
  }

  /** Queues the upload of {@code values} to {@code target}. */
  void upload(int[] values, DevicePointer target) {
    long offset = take((long) values.length * Integer.BYTES);
    buffer.asIntBuffer().put((int) (offset / Integer.BYTES), values);
    cuMemcpyHtoDAsync(target, host.withByteOffset(offset), (long) values.length * Integer.BYTES, stream);
  }

  void upload(float[] values, DevicePointer target) {
    long offset = take((long) values.length * Float.BYTES);
    buffer.asFloatBuffer().put((int) (offset / Float.BYTES), values);
    cuMemcpyHtoDAsync(target, host.withByteOffset(offset), (long) values.length * Float.BYTES, stream);
  }

  /** Copies {@code out.length} floats from the device and waits for the stream (and all work before). */
  void download(DevicePointer source, float[] out) {
    long offset = take((long) out.length * Float.BYTES);
    cuMemcpyDtoHAsync(host.withByteOffset(offset), source, (long) out.length * Float.BYTES, stream);
    cuStreamSynchronize(stream);
    buffer.asFloatBuffer().get((int) (offset / Float.BYTES), out);
  }

  void download(DevicePointer source, int[] out) {
    long offset = take((long) out.length * Integer.BYTES);
    cuMemcpyDtoHAsync(host.withByteOffset(offset), source, (long) out.length * Integer.BYTES, stream);
    cuStreamSynchronize(stream);
    buffer.asIntBuffer().get((int) (offset / Integer.BYTES), out);
  }

  private long take(long bytes) {
    long aligned = (bytes + 255) & ~255L;
    if (used + aligned > capacity) {
      cuStreamSynchronize(stream); // every queued copy has run: the whole buffer is free again
      if (aligned > capacity) {
        cuMemFreeHost(host);
        allocate(Math.max(aligned, 2 * capacity));
      }
      used = 0;
    }
    long offset = used;
    used += aligned;
    return offset;
  }

  @Override
  public void close() {
    cuMemFreeHost(host);
  }
}
