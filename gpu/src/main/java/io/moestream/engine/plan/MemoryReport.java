package io.moestream.engine.plan;

import java.util.Locale;

/** The plan, the machine and the verdict as a table for people: bytes and GiB side by side. */
public final class MemoryReport {
  private static final String ROW = "  %-44s %20s  %10s%n";

  private MemoryReport() {}

  /** "536,870,912 B (0.50 GiB)". */
  public static String bytes(long bytes) {
    return String.format(Locale.ROOT, "%,d B (%.2f GiB)", bytes, bytes / (double) (1L << 30));
  }

  public static String render(MemoryPlan plan, MachineMemory machine, MemoryVerdict verdict) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "memory plan: %s, %d layers, backend %s, max batch tokens %d, %d threads%n",
        plan.config().architecture().modelType(), plan.config().numLayers(), plan.backend(), plan.maxBatchTokens(),
        plan.threads()));
    out.append("weights mapped from the checkpoint (read in place, paged in by the OS)\n");
    for (WeightKind kind : WeightKind.values()) {
      row(out, "  " + kind.label(), plan.weights().mapped(kind));
    }
    row(out, "  total mapped", plan.weights().mappedBytes());
    if (plan.weights().int8Bytes() > 0) {
      out.append("weights int8 (quantized at load, direct memory; their mapped tensors are left out above)\n");
      row(out, "  Q8_0 codes + scales", plan.weights().int8Bytes());
    }
    out.append("heap\n");
    row(out, "  weights copied (norms, biases, FP8 scales)", plan.weights().heapCopiedBytes());
    out.append(String.format(Locale.ROOT, "  KV cache per token: %s, %d + %d floats x %d layers%n",
        plan.kvLayerKind(), plan.kvKeyFloats(), plan.kvValueFloats(), plan.config().numLayers()));
    row(out, "    per token, one layer", plan.kvBytesPerTokenPerLayer());
    row(out, "    per token, all layers", plan.kvBytesPerToken());
    row(out, "  KV cache: " + plan.kvBlocks() + " blocks x " + plan.kvBlockSize() + " = " + plan.kvTokens() + " tokens",
        plan.kvCacheBytes());
    int[] windows = plan.kvLayout().poolWindow();
    int[] blocks = plan.kvLayout().poolBlocks();
    for (int pool = 0; pool < windows.length; pool++) {
      if (windows[pool] > 0) { // its own blocks: a sequence holds only its window there
        out.append(String.format(Locale.ROOT, "    sliding-window %d layers: %d blocks (window + one step per sequence)%n",
            windows[pool], blocks[pool]));
      }
    }
    row(out, "  step scratch at " + plan.maxBatchTokens() + " tokens", plan.scratch().totalBytes());
    row(out, "    activations (metered)", plan.scratch().meteredBytes());
    row(out, "    per-thread rows (bound, " + plan.threads() + " threads)", plan.scratch().perThreadBytes());
    row(out, "    shifted input copies (bound)", plan.scratch().shiftedCopyBytes());
    row(out, "  total heap", plan.heapBytes());
    row(out, plan.weights().int8Bytes() > 0 ? "total RAM (mapped weights + int8 + heap)"
        : "total RAM (mapped weights + heap)", plan.ramBytes());
    if (plan.usesGpu()) {
      row(out, "GPU (weights as BF16 + KV pages)", plan.deviceBytes());
    }
    out.append("machine\n");
    row(out, "  RAM total", machine.ramTotalBytes());
    row(out, "  RAM available now", machine.ramAvailableBytes());
    row(out, "  cgroup memory limit", machine.cgroupLimitBytes());
    row(out, "  max heap (-Xmx)", machine.maxHeapBytes());
    row(out, "  heap margin kept free", verdict.heapMarginBytes());
    if (plan.usesGpu()) {
      MachineMemory.Gpu gpu = machine.gpu();
      if (gpu != null && gpu.present()) {
        row(out, "  GPU total", gpu.totalBytes());
        row(out, "  GPU free", gpu.freeBytes());
      } else {
        out.append("  GPU: none (").append(gpu == null ? "not probed" : gpu.detail()).append(")\n");
      }
    }
    out.append("verdict: ").append(verdict.fits() ? "fits" : "DOES NOT FIT").append('\n');
    verdict.problems().forEach(p -> out.append("  problem: ").append(p).append('\n'));
    verdict.warnings().forEach(w -> out.append("  warning: ").append(w).append('\n'));
    verdict.notes().forEach(n -> out.append("  note: ").append(n).append('\n'));
    return out.toString();
  }

  private static void row(StringBuilder out, String label, long bytes) {
    if (bytes < 0) {
      out.append(String.format(Locale.ROOT, ROW, label, "none/unknown", ""));
      return;
    }
    out.append(String.format(Locale.ROOT, ROW, label, String.format(Locale.ROOT, "%,d B", bytes),
        String.format(Locale.ROOT, "%.3f GiB", bytes / (double) (1L << 30))));
  }
}
