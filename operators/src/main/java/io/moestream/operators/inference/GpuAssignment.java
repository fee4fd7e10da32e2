package io.moestream.operators.inference;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;

/**
 * Which GPU a subtask's engine uses. A TaskManager started with Flink's GPU driver
 * ({@code external-resources: gpu}) lists its GPUs, each with an {@code index} property; the subtasks
 * of that TaskManager take them in turn. Without the driver (or on a CPU-only TaskManager) it is 0.
 */
public final class GpuAssignment {
  /** The external resource name the job reads: {@code external-resources: gpu} in the Flink config. */
  public static final String RESOURCE_NAME = "gpu";

  private GpuAssignment() {}

  public static int deviceIndex(Collection<ExternalResourceInfo> gpus, int subtaskIndex) {
    List<Integer> indices = gpus.stream()
        .map(info -> info.getProperty("index"))
        .flatMap(Optional::stream)
        .map(String::trim)
        .map(Integer::parseInt)
        .sorted()
        .collect(Collectors.toList());
    return indices.isEmpty() ? 0 : indices.get(subtaskIndex % indices.size());
  }
}
