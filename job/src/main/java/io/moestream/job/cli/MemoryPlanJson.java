package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.plan.MachineMemory;
import io.moestream.engine.plan.MemoryPlan;
import io.moestream.engine.plan.MemoryVerdict;
import io.moestream.engine.plan.WeightKind;

/** {@code model-info --memory --json}: the plan, the machine and the verdict, every figure in bytes. */
final class MemoryPlanJson {
  private MemoryPlanJson() {}

  static ObjectNode of(MemoryPlan plan, MachineMemory machine, MemoryVerdict verdict) {
    ObjectNode out = new ObjectMapper().createObjectNode();
    out.put("backend", plan.backend());
    out.put("max_batch_tokens", plan.maxBatchTokens());
    out.put("threads", plan.threads());
    ObjectNode mapped = out.putObject("weights_mapped_bytes");
    for (WeightKind kind : WeightKind.values()) {
      mapped.put(kind.name().toLowerCase(java.util.Locale.ROOT), plan.weights().mapped(kind));
    }
    mapped.put("total", plan.weights().mappedBytes());
    out.put("weights_heap_copied_bytes", plan.weights().heapCopiedBytes());
    out.put("weights_int8_bytes", plan.weights().int8Bytes());
    ObjectNode kv = out.putObject("kv_cache");
    kv.put("layer_kind", plan.kvLayerKind());
    kv.put("bytes_per_token_per_layer", plan.kvBytesPerTokenPerLayer());
    kv.put("bytes_per_token", plan.kvBytesPerToken());
    kv.put("blocks", plan.kvBlocks());
    kv.put("block_size", plan.kvBlockSize());
    kv.put("tokens", plan.kvTokens());
    kv.put("bytes", plan.kvCacheBytes());
    ObjectNode scratch = out.putObject("step_scratch");
    scratch.put("metered_bytes", plan.scratch().meteredBytes());
    scratch.put("per_thread_bound_bytes", plan.scratch().perThreadBytes());
    scratch.put("shifted_copies_bound_bytes", plan.scratch().shiftedCopyBytes());
    scratch.put("bytes", plan.scratch().totalBytes());
    out.put("heap_bytes", plan.heapBytes());
    out.put("ram_bytes", plan.ramBytes());
    if (plan.usesGpu()) {
      out.put("gpu_bytes", plan.deviceBytes());
    }
    ObjectNode here = out.putObject("machine");
    here.put("ram_total_bytes", machine.ramTotalBytes());
    here.put("ram_available_bytes", machine.ramAvailableBytes());
    here.put("cgroup_limit_bytes", machine.cgroupLimitBytes());
    here.put("max_heap_bytes", machine.maxHeapBytes());
    here.put("heap_margin_bytes", verdict.heapMarginBytes());
    if (machine.gpu() != null) {
      ObjectNode gpu = here.putObject("gpu");
      gpu.put("present", machine.gpu().present());
      gpu.put("total_bytes", machine.gpu().totalBytes());
      gpu.put("free_bytes", machine.gpu().freeBytes());
      gpu.put("detail", machine.gpu().detail());
    }
    out.put("fits", verdict.fits());
    ArrayNode problems = out.putArray("problems");
    verdict.problems().forEach(problems::add);
    ArrayNode warnings = out.putArray("warnings");
    verdict.warnings().forEach(warnings::add);
    ArrayNode notes = out.putArray("notes");
    verdict.notes().forEach(notes::add);
    return out;
  }
}
