package io.moestream.engine.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;

/** Device allocations that live as long as the backend (weights, KV pages, tables), freed together. */
final class DeviceMemory implements AutoCloseable {
  private final List<DevicePointer> allocations = new ArrayList<>();
  private long bytes;

  DevicePointer alloc(long size) {
    DevicePointer p = new DevicePointer();
    cuMemAlloc(p, Math.max(size, 4));
    allocations.add(p);
    bytes += size;
    return p;
  }

  DevicePointer upload(float[] values) {
    DevicePointer p = alloc((long) values.length * Float.BYTES);
    cuMemcpyHtoD(p, Pointer.to(values), (long) values.length * Float.BYTES);
    return p;
  }

  DevicePointer upload(long[] values) {
    DevicePointer p = alloc((long) values.length * Long.BYTES);
    cuMemcpyHtoD(p, Pointer.to(values), (long) values.length * Long.BYTES);
    return p;
  }

  /** Uploads {@code values}, or returns null (a null kernel argument) when there are none. */
  DevicePointer uploadOrNull(float[] values) {
    return values == null ? null : upload(values);
  }

  /** Bytes allocated so far, replaced scratch included: an upper bound of what is held. */
  long bytes() {
    return bytes;
  }

  /**
   * Frees one allocation made here early (a grow-only scratch buffer being replaced). Waits for all
   * queued work first: a kernel already queued may still read it. Rare (growth only), so the wait is
   * cheap over a run.
   */
  void free(DevicePointer p) {
    if (allocations.remove(p)) {
      cuCtxSynchronize();
      cuMemFree(p);
    }
  }

  /**
   * Frees every allocation, each attempted even when one fails (after a sticky error they all do, and the
   * context reset frees them); throws the first failure afterwards.
   */
  @Override
  public void close() {
    RuntimeException first = null;
    for (DevicePointer p : allocations) {
      try {
        cuMemFree(p);
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    allocations.clear();
    bytes = 0;
    if (first != null) {
      throw first;
    }
  }
}
