package io.moestream.operators.inference;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which GPU a subtask's engine uses. A TaskManager started with Flink's GPU driver
 * ({@code external-resources: gpu}) lists its GPUs, each with an {@code index} property; each inference
 * subtask of that TaskManager claims a GPU of its own ({@link GpuClaims}), and one more subtask than GPUs is
 * an error. A CPU backend claims nothing; without the driver the index is 0, unclaimed.
 */
public final class GpuAssignment {
  private static final Logger LOG = LoggerFactory.getLogger(GpuAssignment.class);
  /** The external resource name the job reads: {@code external-resources: gpu} in the Flink config. */
  public static final String RESOURCE_NAME = "gpu";

  private GpuAssignment() {}

  /** The GPU indexes Flink's driver lists, ascending. */
  public static List<Integer> indexes(Collection<ExternalResourceInfo> gpus) {
    return gpus.stream()
        .map(info -> info.getProperty("index"))
        .flatMap(Optional::stream)
        .map(String::trim)
        .map(Integer::parseInt)
        .sorted()
        .distinct()
        .collect(Collectors.toList());
  }

  /**
   * The device a subtask's engine runs on, held until the returned claim is closed.
   *
   * @param backend the engine's backend: "cpu" claims nothing
   * @param holder names the subtask in the error another subtask gets when no GPU is left
   * @return null when nothing is claimed (the engine then gets device 0)
   */
  public static GpuClaims.Claim claim(GpuClaims claims, Collection<ExternalResourceInfo> gpus, String backend,
      String holder) {
    if ("cpu".equals(backend)) {
      return null;
    }
    List<Integer> indexes = indexes(gpus);
    if (indexes.isEmpty()) {
      LOG.info("{}: no GPU listed by Flink's GPU driver (external-resources: gpu not configured): device 0, unclaimed",
          holder);
      return null;
    }
    GpuClaims.Claim claim = claims.claim(indexes, holder);
    LOG.info("{}: claimed GPU {} of this TaskManager's {}", holder, claim.deviceIndex(), indexes);
    return claim;
  }
}
