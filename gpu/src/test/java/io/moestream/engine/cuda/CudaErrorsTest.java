package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CudaErrorsTest {

  @Test
  void kernelFaultsAreStickyAndResourceErrorsAreNot() {
    for (String sticky : new String[] {"CUDA_ERROR_ILLEGAL_ADDRESS", "CUDA_ERROR_LAUNCH_FAILED",
        "CUDA_ERROR_MISALIGNED_ADDRESS", "CUDA_ERROR_ILLEGAL_INSTRUCTION", "CUDA_ERROR_ASSERT",
        "CUDA_ERROR_LAUNCH_TIMEOUT", "CUDA_ERROR_HARDWARE_STACK_ERROR"}) {
      assertTrue(CudaErrors.isSticky(sticky), sticky);
    }
    for (String recoverable : new String[] {"CUDA_ERROR_OUT_OF_MEMORY", "CUDA_ERROR_INVALID_VALUE",
        "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "CUDA_ERROR_NOT_FOUND", "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
        "CUDA_ERROR_INVALID_HANDLE"}) {
      assertFalse(CudaErrors.isSticky(recoverable), recoverable);
    }
    assertFalse(CudaErrors.isSticky((String) null));
  }

  @Test
  void theResultNameIsFoundInTheMessageOrACause() {
    // JCuda's CudaException message is the CUresult name; wrappers add their own text around it
    RuntimeException jcuda = new RuntimeException("CUDA_ERROR_ILLEGAL_ADDRESS");
    RuntimeException wrapped = new IllegalStateException("step failed", jcuda);
    assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", CudaErrors.resultName(jcuda));
    assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", CudaErrors.resultName(wrapped));
    assertTrue(CudaErrors.isSticky(wrapped));
    assertEquals("CUDA_ERROR_OUT_OF_MEMORY",
        CudaErrors.resultName(new RuntimeException("cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (2)")));
    assertNull(CudaErrors.resultName(new IllegalArgumentException("token id 7 outside the vocabulary")));
    assertFalse(CudaErrors.isSticky(new IllegalArgumentException("no CUDA here")));
  }
}
