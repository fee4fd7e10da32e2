package io.moestream.engine.tokenizer.bpe;

import java.util.Arrays;

/**
 * The BPE merge rules as an open-addressing hash table from a pair of token ids (left, right) to the
 * rule's rank (its position in "merges": lower merges first) and the id of the merged token. Keys and
 * values are packed into longs so a lookup touches two arrays and allocates nothing; the tokenizer
 * does one lookup per adjacent symbol pair, which dominates encoding time.
 */
final class MergeTable {
  private static final long EMPTY = -1L;

  private final long[] keys;
  /** (rank << 32) | mergedId for the key at the same slot. */
  private final long[] values;
  private final int mask;
  private int size;

  MergeTable(int expectedSize) {
    int capacity = Integer.highestOneBit(Math.max(16, expectedSize * 2 - 1)) << 1;
    keys = new long[capacity];
    values = new long[capacity];
    mask = capacity - 1;
    Arrays.fill(keys, EMPTY);
  }

  private static long key(int left, int right) {
    return ((long) left << 32) | (right & 0xFFFFFFFFL);
  }

  private static int slot(long key, int mask) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 29)) & mask;
  }

  /** Adds a rule; an earlier rule for the same pair wins, as in the Rust library. */
  void put(int left, int right, int rank, int mergedId) {
    long k = key(left, right);
    int s = slot(k, mask);
    while (keys[s] != EMPTY) {
      if (keys[s] == k) {
        return;
      }
      s = (s + 1) & mask;
    }
    keys[s] = k;
    values[s] = ((long) rank << 32) | (mergedId & 0xFFFFFFFFL);
    size++;
  }

  /** (rank << 32) | mergedId of the rule for (left, right), or -1 when no rule merges them. */
  long get(int left, int right) {
    long k = key(left, right);
    int s = slot(k, mask);
    while (true) {
      long found = keys[s];
      if (found == k) {
        return values[s];
      }
      if (found == EMPTY) {
        return -1L;
      }
      s = (s + 1) & mask;
    }
  }

  int size() {
    return size;
  }
}
