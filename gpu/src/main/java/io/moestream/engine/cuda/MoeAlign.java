package io.moestream.engine.cuda;

import io.moestream.engine.cuda.DeviceScratch.Buffer;

/**
 * The permutation of one sparse layer's (token, slot) pairs into runs by expert, built on the device
 * from the router's ranked candidates ({@code moe_align_count}, {@code _scan}, {@code _scatter} in
 * moe_align.cu, as vLLM's {@code moe_align_block_size}), so the host never reads the routing back to
 * dispatch. The expert GEMMs' grids are sized for the worst case ({@link #maxPadded}); their blocks past
 * the real total, which only the device knows, exit at once.
 *
 * <p>Within an expert, pairs are in ascending pair order (token * maxK + slot), a function of the
 * choices alone, and every row's result is independent of its neighbours: a token's output does not
 * depend on the rest of the batch.
 */
final class MoeAlign {
  /** Each expert's run is padded to a multiple of this: one GEMM chunk, the least padding moe.cu allows. */
  static final int BLOCK = GemmWorkList.MAX_CHUNK;
  /** Pairs per block of the count and scatter kernels (ALIGN_THREADS in moe_align.cu). */
  static final int THREADS = 256;
  /** Ints per layer in the summary: padded total, experts used, invalid slots (summary in moe_align.cu). */
  static final int SUMMARY_INTS = 3;
  static final int SUMMARY_ACTIVE = 1;
  static final int SUMMARY_INVALID = 2;

  private final KernelLauncher launcher;
  private final DeviceScratch scratch;

  MoeAlign(KernelLauncher launcher, DeviceScratch scratch) {
    this.launcher = launcher;
    this.scratch = scratch;
  }

  /**
   * The layout on the device (see moe.cu for how the GEMMs read it).
   *
   * @param sortedPairs (maxPadded): pair indexes by expert, -1 for padding
   * @param expertOfBlock (maxPadded / BLOCK): the expert of each run of BLOCK positions
   * @param summary (3): padded total, experts used, invalid slots
   * @param maxPadded the worst-case padded total: the GEMM grids cover it
   */
  record Layout(DevicePointer sortedPairs, DevicePointer expertOfBlock, DevicePointer summary, int maxPadded) {
    /** Blocks along x of the expert GEMMs: every chunk of {@link GemmWorkList#MAX_CHUNK} positions. */
    int gemmChunks() {
      return GemmWorkList.ceilDiv(maxPadded, GemmWorkList.MAX_CHUNK);
    }
  }

  /**
   * Queues the three align launches.
   *
   * @param candidates (numTokens, maxK) on the device: the router's ranked experts
   * @param selectedK (numTokens) on the device: the slots each token uses
   * @param summary (3) on the device: receives {padded total, experts used, invalid slots}; the host reads
   *     it after the step
   */
  Layout run(DevicePointer candidates, DevicePointer selectedK, int numTokens, int maxK, int numExperts,
      DevicePointer summary) {
    int numPairs = numTokens * maxK;
    int chunks = numChunks(numPairs);
    int maxPadded = maxPadded(numPairs, numExperts, BLOCK);
    DevicePointer chunkCounts = scratch.get(Buffer.CHUNK_COUNTS, (long) chunks * numExperts);
    DevicePointer chunkInvalid = scratch.get(Buffer.CHUNK_INVALID, chunks);
    DevicePointer expertCounts = scratch.get(Buffer.EXPERT_COUNTS, numExperts);
    DevicePointer expertStart = scratch.get(Buffer.EXPERT_START, numExperts);
    DevicePointer sortedPairs = scratch.get(Buffer.SORTED_PAIRS, maxPadded);
    DevicePointer expertOfBlock = scratch.get(Buffer.EXPERT_OF_BLOCK, maxPadded / BLOCK);
    launcher.launch(CudaKernel.MOE_ALIGN_COUNT, chunks, THREADS, candidates, selectedK, numTokens, maxK, numExperts,
        chunkCounts, chunkInvalid);
    launcher.launch(CudaKernel.MOE_ALIGN_SCAN, 1, THREADS, chunkCounts, chunkInvalid, chunks, numExperts, BLOCK,
        expertCounts, expertStart, sortedPairs, expertOfBlock, summary);
    launcher.launch(CudaKernel.MOE_ALIGN_SCATTER, chunks, THREADS, candidates, selectedK, numTokens, maxK, numExperts,
        chunkCounts, expertStart, sortedPairs);
    return new Layout(sortedPairs, expertOfBlock, summary, maxPadded);
  }

  static int numChunks(int numPairs) {
    return GemmWorkList.ceilDiv(numPairs, THREADS);
  }

  /**
   * An upper bound of the padded total: each expert that holds a pair adds at most {@code block - 1}
   * padding, and at most min(numExperts, numPairs) experts hold one.
   */
  static int maxPadded(int numPairs, int numExperts, int block) {
    return numPairs + Math.min(numExperts, numPairs) * (block - 1);
  }
}
