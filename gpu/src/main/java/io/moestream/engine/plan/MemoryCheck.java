package io.moestream.engine.plan;

import static io.moestream.engine.plan.MemoryReport.bytes;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds a {@link MemoryPlan} to the machine before anything is allocated, so a model that cannot fit fails
 * at once with the numbers instead of minutes later with an OutOfMemoryError or a machine paging weights.
 *
 * <p>Rules: (1) what lives on the heap plus a margin for the rest of the JVM must fit the max heap;
 * (2) the heap must fit the RAM (or the cgroup limit, when lower); (3) mapped weights plus the heap should
 * fit it too: when they do not, the weights page from disk on every step, which fails unless allowed, then
 * warns; (4) for backend {@code cuda}, weights and KV pages must fit the GPU's free memory (for {@code auto}
 * a warning here; the CUDA backend's own check then fails, see {@code DeviceMemoryPlan}). Without a GPU nothing
 * is checked against one. (5) With weights int8, the quantized copies must fit the JVM's direct-memory limit,
 * where they are allocated.
 */
public final class MemoryCheck {
  private static final Logger LOG = LoggerFactory.getLogger(MemoryCheck.class);

  private MemoryCheck() {}

  /** The names of what a user changes, as the caller's interface spells them (CLI options or job config fields). */
  public record Knobs(String kvCache, String maxBatchTokens, String allowWeightsOverRam, String heap) {
    /** Both spellings: the engine is loaded by CLI commands and by the job's TaskManagers. */
    public static final Knobs ENGINE = new Knobs("--kv-cache-mb (model.kv_cache_mb in a job)",
        "--max-batch-tokens (model.max_batch_tokens)", "--allow-weights-over-ram (model.allow_weights_over_ram)",
        "-Xmx (MOESTREAM_JAVA_OPTS; a TaskManager's heap in a job)");
  }

  /** Heap kept free for everything else in the JVM (tokenizer, Flink, garbage between collections). */
  public static long heapMargin(long maxHeapBytes) {
    return (32L << 20) + maxHeapBytes / 10;
  }

  public static MemoryVerdict check(MemoryPlan plan, MachineMemory machine, boolean allowWeightsOverRam, Knobs knobs) {
    return check(plan, 1, machine, allowWeightsOverRam, knobs);
  }

  /**
   * The check for {@code engines} engines of this plan in one JVM (a job's subtasks in a local cluster):
   * each has its own heap parts; the mapped weights are shared.
   */
  public static MemoryVerdict check(MemoryPlan plan, int engines, MachineMemory machine, boolean allowWeightsOverRam,
      Knobs knobs) {
    List<String> problems = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    long margin = heapMargin(machine.maxHeapBytes());
    long heap = engines * plan.heapBytes();
    long int8 = engines * plan.weights().int8Bytes(); // each engine quantizes its own copy
    long ram = plan.weights().mappedBytes() + heap + int8;
    String who = engines == 1 ? "the engine needs "
        : engines + " engines in this JVM need " + engines + " x " + bytes(plan.heapBytes()) + " = ";
    if (heap + margin > machine.maxHeapBytes()) {
      problems.add("heap: " + who + bytes(heap) + (engines == 1 ? " (" : " (each: ") + "KV cache "
          + bytes(plan.kvCacheBytes())
          + ", step scratch at " + plan.maxBatchTokens() + " tokens " + bytes(plan.scratch().totalBytes())
          + ", weights copied " + bytes(plan.weights().heapCopiedBytes()) + ") plus a margin of " + bytes(margin)
          + ", but the JVM's max heap is " + bytes(machine.maxHeapBytes()) + ": lower " + knobs.kvCache() + " or "
          + knobs.maxBatchTokens() + ", or raise " + knobs.heap());
    }
    long limit = machine.ramLimitBytes();
    String limitName = limit == machine.cgroupLimitBytes() ? "the cgroup memory limit" : "the RAM";
    if (limit < 0) {
      notes.add("RAM size unknown (no /proc/meminfo): RAM not checked");
    } else if (heap > limit) {
      problems.add("RAM: the heap alone needs " + bytes(heap) + ", more than " + limitName + " (" + bytes(limit)
          + "): lower " + knobs.kvCache() + " or " + knobs.maxBatchTokens());
    } else if (ram > limit) {
      String text = "RAM: mapped weights " + bytes(plan.weights().mappedBytes()) + " + heap " + bytes(heap)
          + (int8 > 0 ? " + int8 weights " + bytes(int8) : "") + " = "
          + bytes(ram) + " exceed " + limitName + " (" + bytes(limit)
          + "), so the weights would page from disk on every step";
      if (allowWeightsOverRam) {
        warnings.add(text + " (allowed by " + knobs.allowWeightsOverRam() + ")");
      } else {
        problems.add(text + ": use a machine with more memory, lower " + knobs.kvCache() + ", or set "
            + knobs.allowWeightsOverRam() + " to run anyway, slowly");
      }
    }
    if (int8 > 0) {
      long directLimit = maxDirectMemoryBytes();
      if (directLimit >= 0 && int8 > directLimit) {
        problems.add("direct memory: weights int8 need " + bytes(int8) + " for the quantized copies, but this JVM"
            + " allows " + bytes(directLimit) + " of direct memory: raise -XX:MaxDirectMemorySize (MOESTREAM_JAVA_OPTS;"
            + " taskmanager.memory.task.off-heap.size on a TaskManager) or use weights checkpoint");
      }
    }
    if (plan.usesGpu()) {
      checkGpu(plan, machine.gpu(), knobs, problems, warnings, notes);
    }
    return new MemoryVerdict(problems, warnings, notes, margin);
  }

  /** The JVM's direct-memory limit ({@code -XX:MaxDirectMemorySize}, by default the max heap), or -1 if unknown. */
  static long maxDirectMemoryBytes() {
    try {
      com.sun.management.HotSpotDiagnosticMXBean hotspot = java.lang.management.ManagementFactory
          .getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
      long value = Long.parseLong(hotspot.getVMOption("MaxDirectMemorySize").getValue());
      return value > 0 ? value : Runtime.getRuntime().maxMemory();
    } catch (RuntimeException | LinkageError e) {
      return -1; // not HotSpot: the allocation itself names the flag if it fails
    }
  }

  private static void checkGpu(MemoryPlan plan, MachineMemory.Gpu gpu, Knobs knobs, List<String> problems,
      List<String> warnings, List<String> notes) {
    if (gpu == null || !gpu.present()) {
      notes.add("no GPU (" + (gpu == null ? "not probed" : gpu.detail()) + "): nothing checked against GPU memory");
      return;
    }
    if (plan.deviceBytes() > gpu.freeBytes()) {
      String text = "GPU: weights as BF16 " + bytes(plan.weights().deviceBytes()) + " + KV pages "
          + bytes(plan.kvCacheBytes()) + " = " + bytes(plan.deviceBytes()) + " exceed the GPU's free memory "
          + bytes(gpu.freeBytes()) + " (of " + bytes(gpu.totalBytes()) + ")";
      if ("cuda".equals(plan.backend())) {
        problems.add(text + ": lower " + knobs.kvCache() + " or use a larger GPU");
      } else {
        warnings.add(text + ": backend auto will refuse the GPU at start (an error unless the CPU fallback is"
            + " allowed)");
      }
    }
  }

  /**
   * Checks and throws {@link MemoryException} with the whole plan when the model does not fit; logs the
   * warnings otherwise. What loading an engine calls first.
   */
  public static MemoryVerdict require(MemoryPlan plan, MachineMemory machine, boolean allowWeightsOverRam,
      Knobs knobs) {
    MemoryVerdict verdict = check(plan, machine, allowWeightsOverRam, knobs);
    if (!verdict.fits()) {
      throw new MemoryException("the model does not fit in memory (nothing was allocated):\n  - "
          + String.join("\n  - ", verdict.problems()) + "\n" + MemoryReport.render(plan, machine, verdict), verdict);
    }
    verdict.warnings().forEach(w -> LOG.warn("memory: {}", w));
    return verdict;
  }
}
