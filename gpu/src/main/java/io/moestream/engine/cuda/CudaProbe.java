package io.moestream.engine.cuda;

/**
 * Whether a CUDA device can be used here, asked without risking the JVM: a missing JCuda jar, a missing
 * libcuda.so.1, no device or a broken driver each end in {@link Result#available()} false with the
 * reason, never in an exception. This class names no JCuda type, so it loads even without JCuda.
 */
public final class CudaProbe {
  /** Why the driver binding failed to load the first time (later attempts only see a class init error). */
  private static volatile String loadFailure;

  private CudaProbe() {}

  /**
   * What a probe found. {@code auto} treats the last two differently: no GPU here means the CPU, a GPU
   * that is here but unusable is an error unless the CPU fallback is allowed.
   */
  public enum Status {
    /** The requested device exists and the driver answers. */
    AVAILABLE,
    /** No GPU on this machine: no driver library, no JCuda, or the driver lists no device. */
    NO_DEVICE,
    /** The driver is here but failed, or it lists devices and not the requested index. */
    FAILED
  }

  /** @param detail describes the device, or says why it is not usable */
  public record Result(Status status, String detail) {
    public boolean available() {
      return status == Status.AVAILABLE;
    }
  }

  public static Result probe(int deviceIndex) {
    try {
      int count = CudaDevice.deviceCount();
      if (count == 0) {
        return new Result(Status.NO_DEVICE, "the CUDA driver reports no device");
      }
      if (deviceIndex < 0 || deviceIndex >= count) {
        return new Result(Status.FAILED, "device index " + deviceIndex + " requested, " + count + " device(s) found");
      }
      return new Result(Status.AVAILABLE, count + " device(s), using index " + deviceIndex);
    } catch (UnsatisfiedLinkError e) {
      loadFailure = "the CUDA driver library (libcuda.so.1) or JCuda's native library did not load: "
          + innermostCause(e.getMessage());
      return new Result(Status.NO_DEVICE, loadFailure);
    } catch (NoClassDefFoundError | ExceptionInInitializerError e) {
      String earlier = loadFailure;
      return new Result(Status.NO_DEVICE, earlier != null ? earlier : "JCuda is missing from the classpath (" + e + ")");
    } catch (RuntimeException e) { // jcuda.CudaException, e.g. CUDA_ERROR_NO_DEVICE or a driver/kernel mismatch
      String message = String.valueOf(e.getMessage());
      // a driver library without a device (a container without the GPU passed through) is "no GPU here"
      Status status = message.contains("CUDA_ERROR_NO_DEVICE") ? Status.NO_DEVICE : Status.FAILED;
      return new Result(status, "the CUDA driver failed: " + message);
    }
  }

  /**
   * @param available true when device {@code deviceIndex}'s memory could be read
   * @param totalBytes its memory, free or not; 0 when not available
   * @param freeBytes its memory free now; 0 when not available
   * @param detail the device, or why it is not available
   */
  public record Memory(boolean available, long totalBytes, long freeBytes, String detail) {}

  /** Device {@code deviceIndex}'s total and free memory (cuMemGetInfo), guarded like {@link #probe}. */
  public static Memory memory(int deviceIndex) {
    Result probe = probe(deviceIndex);
    if (!probe.available()) {
      return new Memory(false, 0, 0, probe.detail());
    }
    try {
      long[] freeAndTotal = CudaDevice.memoryInfo(deviceIndex);
      return new Memory(true, freeAndTotal[1], freeAndTotal[0], "device " + deviceIndex + " (" + probe.detail() + ")");
    } catch (RuntimeException | LinkageError e) {
      return new Memory(false, 0, 0, "the CUDA driver failed to report memory: " + e.getMessage());
    }
  }

  /**
   * JCuda's load error nests the stack traces of each attempt; the last "UnsatisfiedLinkError: ..."
   * line says what was missing (for example "libcuda.so.1: cannot open shared object file").
   */
  static String innermostCause(String message) {
    if (message == null) {
      return "no detail";
    }
    String marker = "UnsatisfiedLinkError: ";
    String found = null;
    for (String line : message.split("\n")) {
      int at = line.indexOf(marker);
      if (at >= 0) {
        found = line.substring(at + marker.length()).trim();
      }
    }
    return found != null ? found : message.lines().findFirst().orElse(message);
  }
}
