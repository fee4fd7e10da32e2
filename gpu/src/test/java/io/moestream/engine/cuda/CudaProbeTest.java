package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import org.junit.jupiter.api.Test;

/** The probe never throws: without a GPU (or without libcuda.so.1) it answers "unavailable" with a reason. */
class CudaProbeTest {

  @Test
  void probingNeverThrowsAndAlwaysExplains() {
    CudaProbe.Result first = CudaProbe.probe(0);
    CudaProbe.Result again = CudaProbe.probe(0); // a failed native load must not turn into a crash the second time
    assertNotNull(first.detail());
    assertNotNull(again.detail());
    if (!first.available()) {
      assertFalse(again.available());
    }
  }

  @Test
  void aDeviceIndexPastTheLastIsUnavailable() {
    assertFalse(CudaProbe.probe(1 << 20).available());
  }
}
