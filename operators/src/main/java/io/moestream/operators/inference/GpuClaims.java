package io.moestream.operators.inference;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which GPUs of this TaskManager the inference subtasks hold, one subtask per GPU. A subtask claims a free
 * index among the GPUs Flink's GPU driver lists for this TaskManager in {@code open()} and releases it in
 * {@code close()}, so a restarted subtask (or the next one scheduled into the slot) can take it again.
 *
 * <p>Why not the subtask index: subtask indexes are global across TaskManagers, so {@code index % gpus} can put
 * two subtasks of one TaskManager on one GPU while its other GPU idles. The registry is keyed by device index
 * and lives once per class loader: JVM-wide for the job's classes (one job per TaskManager, as with application
 * mode or a dedicated session cluster); two jobs in one session TaskManager each have their own.
 */
public final class GpuClaims {
  private static final GpuClaims JVM_WIDE = new GpuClaims();

  /** Device index -> who holds it (the task's name, for the error a late claimer gets). */
  private final Map<Integer, String> holders = new TreeMap<>();

  /** The registry the inference operator uses. */
  public static GpuClaims jvmWide() {
    return JVM_WIDE;
  }

  /** A held GPU; closing releases it (once; a second close does nothing). */
  public final class Claim implements AutoCloseable {
    private final int deviceIndex;
    private boolean released;

    private Claim(int deviceIndex) {
      this.deviceIndex = deviceIndex;
    }

    public int deviceIndex() {
      return deviceIndex;
    }

    @Override
    public void close() {
      synchronized (GpuClaims.this) {
        if (!released) {
          released = true;
          holders.remove(deviceIndex);
        }
      }
    }
  }

  /**
   * Claims the lowest free index of {@code gpuIndexes} for {@code holder}.
   *
   * @param gpuIndexes the GPUs of this TaskManager (the external resource's "index" properties); not empty
   * @throws IllegalStateException when every one is held: the TaskManager has more inference slots than GPUs
   */
  public synchronized Claim claim(List<Integer> gpuIndexes, String holder) {
    if (gpuIndexes.isEmpty()) {
      throw new IllegalArgumentException("no GPU index to claim from");
    }
    for (int index : gpuIndexes) {
      if (!holders.containsKey(index)) {
        holders.put(index, holder);
        return new Claim(index);
      }
    }
    List<String> taken = new ArrayList<>();
    for (int index : gpuIndexes) {
      taken.add(index + " (" + holders.get(index) + ")");
    }
    throw new IllegalStateException("every GPU of this TaskManager is taken: " + gpuIndexes.size()
        + " GPU(s) listed by Flink's GPU driver (external-resource.gpu), held by " + String.join(", ", taken)
        + ", and " + holder + " needs one more: this TaskManager runs more inference subtasks (slots) than it has"
        + " GPUs. Give each GPU TaskManager one slot per GPU (taskmanager.numberOfTaskSlots = "
        + "external-resource.gpu.amount = " + gpuIndexes.size() + "), or request the GPU per slot with"
        + " fine-grained resources (docs/SUBMITTING.md)");
  }

  /** Indexes held now (tests, diagnostics). */
  synchronized List<Integer> held() {
    return new ArrayList<>(holders.keySet());
  }
}
