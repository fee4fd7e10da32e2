package io.moestream.engine.kv;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Keys and values of every running sequence, in fixed-size blocks from one bounded pool, so sequences
 * of different lengths share memory without fragmentation (vLLM's paged attention layout).
 *
 * <p>Per layer and cached token the cache holds {@code keyWidth} key floats and {@code valueWidth} value
 * floats: numKvHeads * headDim each for grouped-query attention; a latent and a rope key (and no values)
 * for multi-head latent attention. A sequence's block table maps its positions to blocks.
 */
public final class PagedKvCache {
  private final int numLayers;
  private final int keyWidth;
  private final int valueWidth;
  private final int blockSize;
  private final int numBlocks;
  private final float[][] keys; // (numLayers)(numBlocks * blockSize * keyWidth)
  private final float[][] values; // (numLayers)(numBlocks * blockSize * valueWidth)
  private final ArrayDeque<Integer> freeBlocks = new ArrayDeque<>();

  public PagedKvCache(int numLayers, int keyWidth, int valueWidth, int blockSize, int numBlocks) {
    if (blockSize < 1 || numBlocks < 1) {
      throw new IllegalArgumentException("blockSize and numBlocks must be >= 1");
    }
    long floatsPerLayer = layerFloats(numBlocks, blockSize, Math.max(keyWidth, valueWidth));
    if (floatsPerLayer > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("KV cache of " + numBlocks + " blocks x " + blockSize
          + " tokens is too large for one layer array; lower the number of blocks");
    }
    this.numLayers = numLayers;
    this.keyWidth = keyWidth;
    this.valueWidth = valueWidth;
    this.blockSize = blockSize;
    this.numBlocks = numBlocks;
    this.keys = new float[numLayers][(int) layerFloats(numBlocks, blockSize, keyWidth)];
    this.values = new float[numLayers][(int) layerFloats(numBlocks, blockSize, valueWidth)];
    for (int b = 0; b < numBlocks; b++) {
      freeBlocks.add(b);
    }
  }

  /** Floats of one layer's key (or value) array: every slot of every block, {@code width} floats each. */
  public static long layerFloats(int numBlocks, int blockSize, int width) {
    return (long) numBlocks * blockSize * width;
  }

  /**
   * Bytes a cache of this geometry allocates: the key and value arrays of every layer (what the memory
   * plan states before loading; {@link #allocatedBytes()} measures a built cache).
   */
  public static long bytesFor(int numLayers, int keyWidth, int valueWidth, int blockSize, int numBlocks) {
    return numLayers * (layerFloats(numBlocks, blockSize, keyWidth) + layerFloats(numBlocks, blockSize, valueWidth))
        * Float.BYTES;
  }

  /** Bytes this cache's arrays hold, summed from the arrays themselves. */
  public long allocatedBytes() {
    long floats = 0;
    for (int layer = 0; layer < numLayers; layer++) {
      floats += keys[layer].length + (long) values[layer].length;
    }
    return floats * Float.BYTES;
  }

  /** Blocks needed to budget {@code bytes} of cache (floats of keys and values over all layers). */
  public static int blocksForBytes(long bytes, int numLayers, int keyWidth, int valueWidth, int blockSize) {
    long bytesPerBlock = (long) numLayers * blockSize * (keyWidth + valueWidth) * Float.BYTES;
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes / bytesPerBlock));
  }

  /** The cached positions of one sequence. */
  public final class Sequence {
    private int[] blocks = new int[4];
    private int numBlocksHeld;
    private int length;

    /** Positions cached so far (written by steps that have run). */
    public int length() {
      return length;
    }

    /** Records that positions up to {@code newLength} are now written. */
    public void setLength(int newLength) {
      if (newLength > numBlocksHeld * blockSize) {
        throw new IllegalStateException("length " + newLength + " beyond reserved capacity " + numBlocksHeld * blockSize);
      }
      length = newLength;
    }

    /** Index of position {@code position}'s row in the per-layer arrays (times width gives the offset). */
    public int slot(int position) {
      return blocks[position / blockSize] * blockSize + position % blockSize;
    }

    public int blocksHeld() {
      return numBlocksHeld;
    }
  }

  public Sequence newSequence() {
    return new Sequence();
  }

  /**
   * Reserves blocks so {@code sequence} can hold {@code capacity} positions. Returns false, reserving
   * nothing, when the pool has too few free blocks: the caller decides to wait, preempt or fail.
   */
  public synchronized boolean reserve(Sequence sequence, int capacity) {
    int needed = (capacity + blockSize - 1) / blockSize - sequence.numBlocksHeld;
    if (needed <= 0) {
      return true;
    }
    if (needed > freeBlocks.size()) {
      return false;
    }
    if (sequence.numBlocksHeld + needed > sequence.blocks.length) {
      sequence.blocks = Arrays.copyOf(sequence.blocks, Math.max(sequence.blocks.length * 2, sequence.numBlocksHeld + needed));
    }
    for (int i = 0; i < needed; i++) {
      sequence.blocks[sequence.numBlocksHeld++] = freeBlocks.poll();
    }
    return true;
  }

  /** Returns every block of {@code sequence} to the pool. */
  public synchronized void release(Sequence sequence) {
    for (int i = 0; i < sequence.numBlocksHeld; i++) {
      freeBlocks.add(sequence.blocks[i]);
    }
    sequence.numBlocksHeld = 0;
    sequence.length = 0;
  }

  /** Whether {@code positions} more positions for a new sequence would fit right now. */
  public synchronized boolean canFit(int positions) {
    return (positions + blockSize - 1) / blockSize <= freeBlocks.size();
  }

  public synchronized int freeBlocks() {
    return freeBlocks.size();
  }

  public int numBlocks() {
    return numBlocks;
  }

  public int blockSize() {
    return blockSize;
  }

  public int keyWidth() {
    return keyWidth;
  }

  public int valueWidth() {
    return valueWidth;
  }

  public int numLayers() {
    return numLayers;
  }

  public float[] keys(int layer) {
    return keys[layer];
  }

  public float[] values(int layer) {
    return values[layer];
  }

  /** Bytes one cached token takes over all layers. */
  public long bytesPerToken() {
    return (long) numLayers * (keyWidth + valueWidth) * Float.BYTES;
  }
}
