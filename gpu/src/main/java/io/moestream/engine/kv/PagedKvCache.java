package io.moestream.engine.kv;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Keys and values of every running sequence, in fixed-size blocks from bounded pools, so sequences
 * of different lengths share memory without fragmentation (vLLM's paged attention layout).
 *
 * <p>Per layer and cached token the cache holds {@code keyWidth} key floats and {@code valueWidth} value
 * floats: numKvHeads * headDim each for grouped-query attention; a latent and a rope key (and no values)
 * for multi-head latent attention. A sequence's block table maps its positions to blocks.
 *
 * <p>Layers with a sliding window have their own pool ({@link KvCacheLayout}): a sequence's table there
 * keeps only the blocks its next queries can attend; blocks wholly before {@code length - window + 1}
 * go back to the pool at the next {@link #reserve}. Every pool allocates the same logical blocks, so
 * capacity is one number; a position behind a window has no slot any more. A preempted (released)
 * sequence recomputes every position when it runs again, as before.
 */
public final class PagedKvCache {
  private final KvCacheLayout layout;
  private final int numLayers;
  private final int keyWidth;
  private final int valueWidth;
  private final int blockSize;
  private final int[] layerPool;
  private final int[] poolWindow;
  private final int[] poolBlocks;
  /** The most blocks one sequence holds at once in each pool (all of its context for full attention). */
  private final int[] poolSpan;
  private final float[][] keys; // (numLayers)(blocks of the layer's pool * blockSize * keyWidth)
  private final float[][] values; // (numLayers)(blocks of the layer's pool * blockSize * valueWidth)
  private final ArrayDeque<Integer>[] freeBlocks;

  /** A cache without windows: every layer caches every position in one pool of {@code numBlocks}. */
  public PagedKvCache(int numLayers, int keyWidth, int valueWidth, int blockSize, int numBlocks) {
    this(KvCacheLayout.unwindowed(numLayers, blockSize, numBlocks), keyWidth, valueWidth);
  }

  @SuppressWarnings("unchecked")
  public PagedKvCache(KvCacheLayout layout, int keyWidth, int valueWidth) {
    this.layout = layout;
    this.numLayers = layout.numLayers();
    this.keyWidth = keyWidth;
    this.valueWidth = valueWidth;
    this.blockSize = layout.blockSize();
    this.layerPool = layout.layerPool();
    this.poolWindow = layout.poolWindow();
    this.poolBlocks = layout.poolBlocks();
    this.poolSpan = new int[poolBlocks.length];
    this.freeBlocks = new ArrayDeque[poolBlocks.length];
    for (int pool = 0; pool < poolBlocks.length; pool++) {
      long floatsPerLayer = layerFloats(poolBlocks[pool], blockSize, Math.max(keyWidth, valueWidth));
      if (floatsPerLayer > Integer.MAX_VALUE - 16) {
        throw new IllegalArgumentException("KV cache of " + poolBlocks[pool] + " blocks x " + blockSize
            + " tokens is too large for one layer array; lower the number of blocks");
      }
      poolSpan[pool] = poolWindow[pool] == 0 ? Integer.MAX_VALUE
          : KvCacheLayout.windowSpanBlocks(poolWindow[pool], layout.maxChunk(), blockSize);
      freeBlocks[pool] = new ArrayDeque<>();
      for (int b = 0; b < poolBlocks[pool]; b++) {
        freeBlocks[pool].add(b);
      }
    }
    this.keys = new float[numLayers][];
    this.values = new float[numLayers][];
    for (int layer = 0; layer < numLayers; layer++) {
      int blocks = poolBlocks[layerPool[layer]];
      keys[layer] = new float[(int) layerFloats(blocks, blockSize, keyWidth)];
      values[layer] = new float[(int) layerFloats(blocks, blockSize, valueWidth)];
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
    /** Per pool: logical block to physical block; -1 once freed behind the pool's window. */
    private final int[][] tables = new int[poolBlocks.length][4];
    /** Per pool: logical blocks below this are freed (always 0 for full attention). */
    private final int[] firstLive = new int[poolBlocks.length];
    /** Logical blocks allocated, the same in every pool. */
    private int logicalBlocks;
    private int length;

    /** Positions cached so far (written by steps that have run). */
    public int length() {
      return length;
    }

    /** Records that positions up to {@code newLength} are now written. */
    public void setLength(int newLength) {
      if (newLength > logicalBlocks * blockSize) {
        throw new IllegalStateException("length " + newLength + " beyond reserved capacity " + logicalBlocks * blockSize);
      }
      length = newLength;
    }

    /**
     * Index of position {@code position}'s row in the arrays of pool 0's layers (times width gives the
     * offset): for callers whose layers all attend to the whole context (latent attention, CUDA).
     */
    public int slot(int position) {
      return slotIn(0, position);
    }

    /** Index of position {@code position}'s row in layer {@code layer}'s arrays. */
    public int slot(int layer, int position) {
      return slotIn(layerPool[layer], position);
    }

    /**
     * {@code offsets[i] = slot(layer, first + i) * width + column} for i in [0, count): where each of those
     * positions' rows starts in layer {@code layer}'s arrays of rows {@code width} wide, plus a column. One
     * table lookup per block, not per position (attention asks this of every cached position at every step).
     */
    public void rowOffsets(int layer, int first, int count, int width, int column, int[] offsets) {
      int pool = layerPool[layer];
      int i = 0;
      while (i < count) {
        int position = first + i;
        int rowOffset = slotIn(pool, position) * width + column; // checks the block is still cached
        int run = Math.min(count - i, blockSize - position % blockSize); // the rest of this block
        for (int j = 0; j < run; j++) {
          offsets[i + j] = rowOffset + j * width;
        }
        i += run;
      }
    }

    private int slotIn(int pool, int position) {
      int block = tables[pool][position / blockSize];
      if (block < 0) {
        throw new IllegalStateException("position " + position + " is behind the sliding window of "
            + poolWindow[pool] + " and no longer cached");
      }
      return block * blockSize + position % blockSize;
    }

    /** Logical blocks allocated (capacity / blockSize); in pool 0 without a window, the blocks it holds. */
    public int blocksHeld() {
      return logicalBlocks;
    }

    /** Blocks of {@code pool} this sequence holds now. */
    public int blocksHeldInPool(int pool) {
      return logicalBlocks - firstLive[pool];
    }
  }

  public Sequence newSequence() {
    return new Sequence();
  }

  /**
   * Reserves blocks so {@code sequence} can hold {@code capacity} positions, after returning the blocks
   * its windowed layers can no longer attend. Returns false, reserving nothing, when a pool has too few
   * free blocks: the caller decides to wait, preempt or fail.
   */
  public synchronized boolean reserve(Sequence sequence, int capacity) {
    freeBehindWindows(sequence);
    int target = (capacity + blockSize - 1) / blockSize;
    int needed = target - sequence.logicalBlocks;
    if (needed <= 0) {
      return true;
    }
    for (int pool = 0; pool < poolBlocks.length; pool++) {
      if (needed > freeBlocks[pool].size()) {
        return false;
      }
    }
    for (int pool = 0; pool < poolBlocks.length; pool++) {
      if (target > sequence.tables[pool].length) {
        sequence.tables[pool] = Arrays.copyOf(sequence.tables[pool], Math.max(sequence.tables[pool].length * 2, target));
      }
      for (int b = sequence.logicalBlocks; b < target; b++) {
        sequence.tables[pool][b] = freeBlocks[pool].poll();
      }
    }
    sequence.logicalBlocks = target;
    return true;
  }

  /**
   * Frees, in each windowed pool, the blocks wholly before {@code length - window + 1}: the next query is
   * at position {@code length} or later and attends no further back.
   */
  private void freeBehindWindows(Sequence sequence) {
    for (int pool = 0; pool < poolBlocks.length; pool++) {
      int window = poolWindow[pool];
      if (window == 0) {
        continue;
      }
      int keepFrom = Math.max(0, sequence.length - window + 1);
      int firstKept = Math.min(keepFrom / blockSize, sequence.logicalBlocks);
      for (int b = sequence.firstLive[pool]; b < firstKept; b++) {
        freeBlocks[pool].add(sequence.tables[pool][b]);
        sequence.tables[pool][b] = -1;
      }
      sequence.firstLive[pool] = Math.max(sequence.firstLive[pool], firstKept);
    }
  }

  /** Returns every block of {@code sequence} to the pools. */
  public synchronized void release(Sequence sequence) {
    for (int pool = 0; pool < poolBlocks.length; pool++) {
      for (int b = sequence.firstLive[pool]; b < sequence.logicalBlocks; b++) {
        freeBlocks[pool].add(sequence.tables[pool][b]);
      }
      sequence.firstLive[pool] = 0;
    }
    sequence.logicalBlocks = 0;
    sequence.length = 0;
  }

  /**
   * Whether a new sequence of {@code positions} would fit right now: all its blocks in the full-attention
   * pool, at most its window's span in a windowed one.
   */
  public synchronized boolean canFit(int positions) {
    int blocks = (positions + blockSize - 1) / blockSize;
    for (int pool = 0; pool < poolBlocks.length; pool++) {
      if (Math.min(blocks, poolSpan[pool]) > freeBlocks[pool].size()) {
        return false;
      }
    }
    return true;
  }

  /** Free blocks of pool 0 (the full-attention pool when the model has full-attention layers). */
  public synchronized int freeBlocks() {
    return freeBlocks[0].size();
  }

  /** Free blocks of {@code pool}. */
  public synchronized int freeBlocks(int pool) {
    return freeBlocks[pool].size();
  }

  public KvCacheLayout layout() {
    return layout;
  }

  /** Blocks of pool 0 (the full-attention pool when the model has full-attention layers). */
  public int numBlocks() {
    return poolBlocks[0];
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

  /** Bytes one cached token takes over all layers (a windowed layer's only while it is in the window). */
  public long bytesPerToken() {
    return (long) numLayers * (keyWidth + valueWidth) * Float.BYTES;
  }
}
