package io.moestream.engine.cuda;

import java.util.EnumMap;

/**
 * A step's device buffers, by role. Each grows to the largest step seen and is then reused, so a
 * steady stream of steps allocates nothing. Owned by one backend and used by its stepping thread only.
 */
final class DeviceScratch {
  enum Buffer {
    // step inputs (int)
    TOKEN_IDS, POSITIONS, SLOTS, TOKEN_SEQ, CONTEXT_LENS, BLOCK_TABLES, DECODE_TOKENS, PREFILL_TILES, LOGIT_ROWS,
    // activations (float)
    RESIDUAL, NORMED, BLOCK_OUT, Q, K, V, ATTENDED, PARTIAL_OUT, PARTIAL_MAX, PARTIAL_SUM,
    MLP_HIDDEN, SHARED_HIDDEN, SHARED_OUT, SHARED_GATE, LOGIT_INPUT, LOGITS,
    // MoE
    ROUTER_LOGITS, SCORES, CANDIDATES, ROUTING_WEIGHTS, REQUESTED_K, SELECTED_K, EXPERT_OUT,
    // MoE align (int): per chunk and expert counts, then the layout, and the step's per-layer summaries
    CHUNK_COUNTS, CHUNK_INVALID, EXPERT_COUNTS, EXPERT_START, SORTED_PAIRS, EXPERT_OF_BLOCK, MOE_SUMMARY
  }

  private final DeviceMemory memory;
  private final EnumMap<Buffer, DevicePointer> pointers = new EnumMap<>(Buffer.class);
  private final EnumMap<Buffer, Long> capacities = new EnumMap<>(Buffer.class);

  DeviceScratch(DeviceMemory memory) {
    this.memory = memory;
  }

  /**
   * The buffer with room for {@code elements} 4-byte values. Growing frees the old allocation after
   * the work queued on it has run ({@link DeviceMemory#free} waits for the device).
   */
  DevicePointer get(Buffer buffer, long elements) {
    long bytes = Math.max(1, elements) * 4L;
    Long capacity = capacities.get(buffer);
    if (capacity == null || capacity < bytes) {
      DevicePointer old = pointers.get(buffer);
      if (old != null) {
        memory.free(old);
      }
      long size = Math.max(bytes, capacity == null ? 0 : capacity + capacity / 2);
      pointers.put(buffer, memory.alloc(size));
      capacities.put(buffer, size);
    }
    return pointers.get(buffer);
  }
}
