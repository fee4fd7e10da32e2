package io.moestream.engine.kv;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * How a KV cache budget is split into block pools: one for the full-attention layers, one per
 * sliding-window size. A windowed layer's queries never look further back than its window, so a sequence
 * keeps only the blocks that can still be attended (the window plus the step's new tokens); a pool for
 * it needs {@link #windowSpanBlocks} blocks per running sequence, not blocks for whole contexts.
 *
 * <p>Sizing: each windowed pool gets {@code maxSequences} x its span, but never more blocks than the
 * budget would give every layer with no windows; the full-attention pool gets the rest of the budget, so
 * it holds at least as many blocks as before and contexts get longer in the same memory. With no
 * full-attention layer, every windowed pool gets the no-window count (its sequences free blocks as they
 * go, so contexts are no longer bounded by the cache).
 *
 * @param blockSize positions per block
 * @param maxChunk the most tokens one sequence adds in one step (the engine's max batch tokens)
 * @param layerPool pool index of each layer
 * @param poolWindow window of each pool, 0 for full attention (then the pool is index 0)
 * @param poolBlocks blocks of each pool
 */
public record KvCacheLayout(int blockSize, int maxChunk, int[] layerPool, int[] poolWindow, int[] poolBlocks) {

  public KvCacheLayout {
    layerPool = layerPool.clone();
    poolWindow = poolWindow.clone();
    poolBlocks = poolBlocks.clone();
    if (blockSize < 1 || maxChunk < 1 || poolWindow.length != poolBlocks.length || poolWindow.length == 0) {
      throw new IllegalArgumentException("KV cache layout: blockSize " + blockSize + ", maxChunk " + maxChunk + ", "
          + poolWindow.length + " pools");
    }
    for (int pool : layerPool) {
      if (pool < 0 || pool >= poolWindow.length) {
        throw new IllegalArgumentException("KV cache layout: layer pool " + pool + " of " + poolWindow.length);
      }
    }
    for (int blocks : poolBlocks) {
      if (blocks < 1) {
        throw new IllegalArgumentException("KV cache layout: every pool needs a block, found " + blocks);
      }
    }
  }

  /** Every layer in one full-attention pool of {@code numBlocks}: the layout without windows. */
  public static KvCacheLayout unwindowed(int numLayers, int blockSize, int numBlocks) {
    return new KvCacheLayout(blockSize, 1, new int[numLayers], new int[] {0}, new int[] {numBlocks});
  }

  /**
   * The layout for a budget of {@code bytes}.
   *
   * @param layerWindows each layer's sliding window, 0 for full attention
   * @param maxSequences sequences running at once at most (the engine's max running sequences)
   */
  public static KvCacheLayout plan(int[] layerWindows, int keyWidth, int valueWidth, long bytes, int blockSize,
      int maxChunk, int maxSequences) {
    int numLayers = layerWindows.length;
    int unwindowed = PagedKvCache.blocksForBytes(bytes, numLayers, keyWidth, valueWidth, blockSize);
    TreeSet<Integer> windows = new TreeSet<>();
    boolean anyFull = false;
    for (int window : layerWindows) {
      if (window > 0) {
        windows.add(window);
      } else {
        anyFull = true;
      }
    }
    if (windows.isEmpty()) {
      return unwindowed(numLayers, blockSize, unwindowed);
    }
    int pools = windows.size() + (anyFull ? 1 : 0);
    int[] poolWindow = new int[pools];
    int[] poolBlocks = new int[pools];
    int p = anyFull ? 1 : 0;
    for (int window : windows) {
      poolWindow[p++] = window;
    }
    int[] layerPool = new int[numLayers];
    int[] poolLayers = new int[pools];
    for (int layer = 0; layer < numLayers; layer++) {
      layerPool[layer] = layerWindows[layer] > 0 ? Arrays.binarySearch(poolWindow, anyFull ? 1 : 0, pools,
          layerWindows[layer]) : 0;
      poolLayers[layerPool[layer]]++;
    }
    long blockBytesPerLayer = (long) blockSize * (keyWidth + valueWidth) * Float.BYTES;
    long windowedBytes = 0;
    for (int q = anyFull ? 1 : 0; q < pools; q++) {
      long span = (long) maxSequences * windowSpanBlocks(poolWindow[q], maxChunk, blockSize);
      poolBlocks[q] = anyFull ? (int) Math.min(unwindowed, span) : unwindowed;
      windowedBytes += (long) poolLayers[q] * poolBlocks[q] * blockBytesPerLayer;
    }
    if (anyFull) {
      long rest = Math.max(0, bytes - windowedBytes) / (poolLayers[0] * blockBytesPerLayer);
      poolBlocks[0] = (int) Math.max(1, Math.min(Integer.MAX_VALUE, rest));
    }
    return new KvCacheLayout(blockSize, maxChunk, layerPool, poolWindow, poolBlocks);
  }

  /**
   * Blocks a sequence of a pool with {@code window} holds at most: when a step adds n <= maxChunk
   * positions after L written ones, positions L - window + 1 .. L + n - 1 must all be cached (the step
   * writes all its keys before attending), window + n - 1 positions, which touch at most
   * ceil((window + n - 2) / blockSize) + 1 blocks.
   */
  public static int windowSpanBlocks(int window, int maxChunk, int blockSize) {
    return (window + maxChunk - 2 + blockSize - 1) / blockSize + 1;
  }

  @Override
  public int[] layerPool() {
    return layerPool.clone();
  }

  @Override
  public int[] poolWindow() {
    return poolWindow.clone();
  }

  @Override
  public int[] poolBlocks() {
    return poolBlocks.clone();
  }

  public int numLayers() {
    return layerPool.length;
  }

  /** Whether some layer keeps only its window. */
  public boolean windowed() {
    return poolWindow.length > 1 || poolWindow[0] > 0;
  }

  /** The pool {@link PagedKvCache#numBlocks()} reports: the full-attention pool, or the first windowed one. */
  public int primaryBlocks() {
    return poolBlocks[0];
  }

  /** Bytes of the key and value arrays of every layer. */
  public long bytes(int keyWidth, int valueWidth) {
    long floats = 0;
    for (int pool : layerPool) {
      floats += PagedKvCache.layerFloats(poolBlocks[pool], blockSize, keyWidth)
          + PagedKvCache.layerFloats(poolBlocks[pool], blockSize, valueWidth);
    }
    return floats * Float.BYTES;
  }

  /**
   * The longest context one query attends over: the full-attention pool's capacity, or with windows only,
   * the largest window.
   */
  public long longestAttendedContext() {
    return poolWindow[0] == 0 ? (long) poolBlocks[0] * blockSize : poolWindow[poolWindow.length - 1];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KvCacheLayout l && blockSize == l.blockSize && maxChunk == l.maxChunk
        && Arrays.equals(layerPool, l.layerPool) && Arrays.equals(poolWindow, l.poolWindow)
        && Arrays.equals(poolBlocks, l.poolBlocks);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(poolBlocks) * 31 + Arrays.hashCode(layerPool);
  }

  @Override
  public String toString() {
    return "KvCacheLayout[blockSize=" + blockSize + ", maxChunk=" + maxChunk + ", windows="
        + Arrays.toString(poolWindow) + ", blocks=" + Arrays.toString(poolBlocks) + "]";
  }
}
