package io.moestream.engine.cuda;

import io.moestream.engine.kv.PagedKvCache;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The step's view of the paged KV cache, packed for the attention kernels: the distinct sequences of
 * the batch with their block tables, and per token its sequence, context length and cache row.
 *
 * @param table (numSeqs, maxBlocksPerSeq): block ids of each sequence, 0-padded
 * @param tokenSeq (numTokens): index of each token's sequence in {@code table}
 * @param contextLens (numTokens): position + 1, the keys each token attends to
 * @param slots (numTokens): the cache row each token's key and value are written to
 */
record BlockTables(int numSeqs, int maxBlocksPerSeq, int[] table, int[] tokenSeq, int[] contextLens, int[] slots,
    int maxContext) {

  static BlockTables pack(int[] positions, PagedKvCache.Sequence[] sequences, int blockSize) {
    int numTokens = positions.length;
    Map<PagedKvCache.Sequence, Integer> index = new IdentityHashMap<>();
    int[] tokenSeq = new int[numTokens];
    int[] contextLens = new int[numTokens];
    int[] slots = new int[numTokens];
    int maxContext = 0;
    for (int t = 0; t < numTokens; t++) {
      tokenSeq[t] = index.computeIfAbsent(sequences[t], s -> index.size());
      contextLens[t] = positions[t] + 1;
      maxContext = Math.max(maxContext, contextLens[t]);
      slots[t] = sequences[t].slot(positions[t]);
    }
    PagedKvCache.Sequence[] bySeq = new PagedKvCache.Sequence[index.size()];
    int[] seqContext = new int[index.size()];
    for (int t = 0; t < numTokens; t++) {
      bySeq[tokenSeq[t]] = sequences[t];
      seqContext[tokenSeq[t]] = Math.max(seqContext[tokenSeq[t]], contextLens[t]);
    }
    int maxBlocks = Math.max(1, GemmWorkList.ceilDiv(maxContext, blockSize));
    int[] table = new int[bySeq.length * maxBlocks];
    for (int s = 0; s < bySeq.length; s++) {
      int blocks = GemmWorkList.ceilDiv(seqContext[s], blockSize);
      if (blocks > bySeq[s].blocksHeld()) {
        throw new IllegalStateException("sequence holds " + bySeq[s].blocksHeld() + " KV blocks, the step needs "
            + blocks + " (reserve before the step)");
      }
      for (int b = 0; b < blocks; b++) {
        // slot(b * blockSize) = block id * blockSize: the table holds ids, not rows
        table[s * maxBlocks + b] = bySeq[s].slot(b * blockSize) / blockSize;
      }
    }
    return new BlockTables(bySeq.length, maxBlocks, table, tokenSeq, contextLens, slots, maxContext);
  }
}
