package io.moestream.operators.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.junit.jupiter.api.Test;

class GpuAssignmentTest {

  private static ExternalResourceInfo gpu(String index) {
    return new ExternalResourceInfo() {
      @Override
      public Optional<String> getProperty(String key) {
        return key.equals("index") ? Optional.of(index) : Optional.empty();
      }

      @Override
      public Collection<String> getKeys() {
        return Set.of("index");
      }
    };
  }

  @Test
  void noGpuDriverMeansDeviceZero() {
    assertEquals(0, GpuAssignment.deviceIndex(List.of(), 3));
  }

  @Test
  void subtasksTakeTheTaskManagersGpusInTurn() {
    List<ExternalResourceInfo> gpus = List.of(gpu("3"), gpu("1"));
    assertEquals(1, GpuAssignment.deviceIndex(gpus, 0));
    assertEquals(3, GpuAssignment.deviceIndex(gpus, 1));
    assertEquals(1, GpuAssignment.deviceIndex(gpus, 2));
  }
}
