package io.moestream.engine.cuda;

/** Grid sizes of the kernels, kept apart from the launches so they can be tested without a GPU. */
final class LaunchGeometry {
  /** Threads per block of the element-wise kernels (block 256 in elementwise.cu). */
  static final int ELEMENTWISE_THREADS = 256;
  /** Threads of the attention kernels (4 warps: attention.cu). */
  static final int ATTENTION_THREADS = 128;
  /** Threads of the GEMM kernels (8 warps: moe.cu). */
  static final int GEMM_THREADS = 256;
  /** Largest head dimension the attention kernels hold in registers (MAX_HEAD_DIM in attention.cu). */
  static final int MAX_HEAD_DIM = 256;

  private LaunchGeometry() {}

  /** Blocks of {@code threads} covering {@code count} elements, one element per thread. */
  static int blocksFor(long count, int threads) {
    long blocks = (count + threads - 1) / threads;
    if (blocks > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(count + " elements need more than 2^31 - 1 blocks");
    }
    return (int) Math.max(1, blocks);
  }

  /**
   * Keys per flash-decoding partition: the smallest of 64, 128, 256, 512 that keeps the partition count
   * at or below what it takes to give every SM two blocks. Few decode tokens over a long context get
   * many small partitions (parallelism over the context), big batches few large ones (less reduce).
   *
   * @param tasks (decode tokens) x (heads)
   */
  static int decodePartitionSize(int tasks, int maxContext, int multiprocessors) {
    int wantedBlocks = 2 * multiprocessors;
    for (int size = 64; size < 512; size *= 2) {
      if ((long) tasks * GemmWorkList.ceilDiv(maxContext, size) <= wantedBlocks) {
        return size;
      }
    }
    return 512;
  }

  /** Checks the shape limits the attention kernels assume, with a message naming the value. */
  static void checkAttentionShape(int headDim, int numHeads, int numKvHeads) {
    if (headDim > MAX_HEAD_DIM || headDim % 32 != 0) {
      throw new IllegalArgumentException("the CUDA attention kernels need head_dim a multiple of 32 and at most "
          + MAX_HEAD_DIM + ", found " + headDim);
    }
    if (numKvHeads < 1 || numHeads % numKvHeads != 0) {
      throw new IllegalArgumentException("num_attention_heads " + numHeads + " is not a multiple of num_key_value_heads "
          + numKvHeads);
    }
  }
}
