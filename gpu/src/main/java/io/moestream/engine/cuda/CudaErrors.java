package io.moestream.engine.cuda;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which CUDA driver errors poison the context. After a sticky error (a kernel read an illegal address,
 * trapped, or ran too long) every later call in that context returns the same error, and the primary
 * context is shared by everything in the process that uses the device: only cuDevicePrimaryCtxReset clears
 * it. Other errors (out of memory, a bad argument, a missing kernel) leave the context usable.
 * Pure: JCuda reports errors as exceptions whose message is the CUresult name.
 */
final class CudaErrors {
  /** The driver API's names of the errors after which the context is unusable (CUDA 12 cuda.h). */
  static final Set<String> STICKY = Set.of(
      "CUDA_ERROR_ILLEGAL_ADDRESS", // 700
      "CUDA_ERROR_LAUNCH_TIMEOUT", // 702
      "CUDA_ERROR_ASSERT", // 710: a device-side assert
      "CUDA_ERROR_HARDWARE_STACK_ERROR", // 714
      "CUDA_ERROR_ILLEGAL_INSTRUCTION", // 715
      "CUDA_ERROR_MISALIGNED_ADDRESS", // 716
      "CUDA_ERROR_INVALID_ADDRESS_SPACE", // 717
      "CUDA_ERROR_INVALID_PC", // 718
      "CUDA_ERROR_LAUNCH_FAILED", // 719: an exception while running a kernel, e.g. a trap
      "CUDA_ERROR_ECC_UNCORRECTABLE", // 214
      "CUDA_ERROR_CONTEXT_IS_DESTROYED"); // 709: the context is gone; only a reset brings it back

  private static final Pattern NAME = Pattern.compile("CUDA_ERROR_[A-Z0-9_]+");

  private CudaErrors() {}

  /** The CUresult name in {@code failure}'s message or its causes', or null when it names none (not a CUDA error). */
  static String resultName(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      Matcher m = NAME.matcher(String.valueOf(t.getMessage()));
      if (m.find()) {
        return m.group();
      }
    }
    return null;
  }

  static boolean isSticky(String resultName) {
    return resultName != null && STICKY.contains(resultName);
  }

  /** Whether {@code failure} (or a cause of it) is a sticky CUDA error. */
  static boolean isSticky(Throwable failure) {
    return isSticky(resultName(failure));
  }
}
