package io.moestream.engine.cuda;

import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.cuda.DeviceScratch.Buffer;

/**
 * A step's inputs on the device: token ids, positions, cache rows, block tables and the attention
 * plan, queued for upload through the pinned staging buffer before the first kernel of the step.
 */
record DeviceStep(int numTokens, int blockSize, BlockTables tables, AttentionPlan plan, DevicePointer tokenIds,
    DevicePointer positions, DevicePointer slots, DevicePointer tokenSeq, DevicePointer contextLens,
    DevicePointer blockTables, DevicePointer decodeTokens, DevicePointer prefillTiles) {

  static DeviceStep upload(StepBatch batch, int blockSize, DeviceScratch scratch, HostStaging staging) {
    int n = batch.numTokens();
    BlockTables tables = BlockTables.pack(batch.positions(), batch.kvSequences(), blockSize);
    AttentionPlan plan = AttentionPlan.of(batch.positions(), batch.kvSequences());
    DevicePointer tokenIds = put(scratch, staging, Buffer.TOKEN_IDS, batch.tokenIds());
    DevicePointer positions = put(scratch, staging, Buffer.POSITIONS, batch.positions());
    DevicePointer slots = put(scratch, staging, Buffer.SLOTS, tables.slots());
    DevicePointer tokenSeq = put(scratch, staging, Buffer.TOKEN_SEQ, tables.tokenSeq());
    DevicePointer contextLens = put(scratch, staging, Buffer.CONTEXT_LENS, tables.contextLens());
    DevicePointer blockTables = put(scratch, staging, Buffer.BLOCK_TABLES, tables.table());
    DevicePointer decodeTokens = put(scratch, staging, Buffer.DECODE_TOKENS, plan.decodeTokens());
    DevicePointer prefillTiles = put(scratch, staging, Buffer.PREFILL_TILES, plan.prefillTiles());
    return new DeviceStep(n, blockSize, tables, plan, tokenIds, positions, slots, tokenSeq, contextLens, blockTables,
        decodeTokens, prefillTiles);
  }

  static DevicePointer put(DeviceScratch scratch, HostStaging staging, Buffer buffer, int[] values) {
    DevicePointer target = scratch.get(buffer, values.length);
    if (values.length > 0) {
      staging.upload(values, target);
    }
    return target;
  }

  static DevicePointer put(DeviceScratch scratch, HostStaging staging, Buffer buffer, float[] values) {
    DevicePointer target = scratch.get(buffer, values.length);
    if (values.length > 0) {
      staging.upload(values, target);
    }
    return target;
  }
}
