package io.moestream.engine.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxReset;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;

import java.nio.charset.StandardCharsets;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * One GPU through the driver API: its primary context (shared with anything else in the process that
 * uses the device, as the runtime API does) made current on the threads that call {@link #makeCurrent}.
 */
final class CudaDevice implements AutoCloseable {
  private final int index;
  private final CUdevice device = new CUdevice();
  private final CUcontext context = new CUcontext();
  private final String name;
  private final long totalMemory;
  private final int multiprocessors;
  private final int computeMajor;
  private final int computeMinor;

  private CudaDevice(int index) {
    initDriver();
    int[] count = new int[1];
    cuDeviceGetCount(count);
    if (index < 0 || index >= count[0]) {
      throw new IllegalStateException("CUDA device " + index + " requested, " + count[0] + " found");
    }
    this.index = index;
    cuDeviceGet(device, index);
    byte[] nameBytes = new byte[256];
    cuDeviceGetName(nameBytes, nameBytes.length, device);
    int end = 0;
    while (end < nameBytes.length && nameBytes[end] != 0) {
      end++;
    }
    this.name = new String(nameBytes, 0, end, StandardCharsets.US_ASCII);
    long[] memory = new long[1];
    cuDeviceTotalMem(memory, device);
    this.totalMemory = memory[0];
    this.multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    this.computeMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    this.computeMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    if (computeMajor < 8) {
      throw new IllegalStateException("CUDA device " + index + " (" + name + ") has compute capability " + computeMajor
          + "." + computeMinor + "; the kernels are built for 8.0 and newer");
    }
    cuDevicePrimaryCtxRetain(context, device);
    makeCurrent();
  }

  /** Opens device {@code index}; throws when the driver or the device is missing. */
  static CudaDevice open(int index) {
    return new CudaDevice(index);
  }

  /** Loads the JCuda driver binding (libcuda.so.1) and turns CUDA errors into exceptions. */
  static void initDriver() {
    JCudaDriver.setExceptionsEnabled(true);
    cuInit(0);
  }

  /** Devices the driver sees (initializes the driver first). */
  static int deviceCount() {
    initDriver();
    int[] count = new int[1];
    cuDeviceGetCount(count);
    return count[0];
  }

  /**
   * {free, total} bytes of device {@code index}, read in its primary context (retained for the call, so a
   * backend that holds it sees no change).
   */
  static long[] memoryInfo(int index) {
    initDriver();
    CUdevice device = new CUdevice();
    cuDeviceGet(device, index);
    CUcontext context = new CUcontext();
    cuDevicePrimaryCtxRetain(context, device);
    try {
      cuCtxSetCurrent(context);
      long[] free = new long[1];
      long[] total = new long[1];
      cuMemGetInfo(free, total);
      return new long[] {free[0], total[0]};
    } finally {
      cuDevicePrimaryCtxRelease(device);
    }
  }

  private int attribute(int attribute) {
    int[] value = new int[1];
    cuDeviceGetAttribute(value, attribute, device);
    return value[0];
  }

  /** A CUDA context is current per thread: every thread that launches work calls this first. */
  void makeCurrent() {
    cuCtxSetCurrent(context);
  }

  /** {free, total} bytes of this device now (cuMemGetInfo in its context, made current here). */
  long[] freeAndTotalMemory() {
    makeCurrent();
    long[] free = new long[1];
    long[] total = new long[1];
    cuMemGetInfo(free, total);
    return new long[] {free[0], total[0]};
  }

  /**
   * Destroys every allocation and all state of the primary context (cuDevicePrimaryCtxReset), after a sticky
   * error: the context stays poisoned until then, and the next backend on this device in the same JVM (a
   * restarted Flink task in the same TaskManager) would fail on its first call. The next retain starts clean.
   */
  void resetContext() {
    cuDevicePrimaryCtxReset(device);
  }

  int multiprocessors() {
    return multiprocessors;
  }

  long totalMemory() {
    return totalMemory;
  }

  String describe() {
    return "cuda:" + index + " " + name + " (sm_" + computeMajor + computeMinor + ", " + multiprocessors + " SMs, "
        + (totalMemory >> 20) + " MiB)";
  }

  @Override
  public void close() {
    cuDevicePrimaryCtxRelease(device);
  }
}
