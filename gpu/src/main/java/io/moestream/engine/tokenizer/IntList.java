package io.moestream.engine.tokenizer;

import java.util.Arrays;

/** A growable list of ints without boxing; per call, never shared between threads. */
public final class IntList {
  private int[] values;
  private int size;

  public IntList(int capacity) {
    values = new int[Math.max(4, capacity)];
  }

  public void add(int value) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = value;
  }

  public void addAll(int[] more) {
    if (size + more.length > values.length) {
      values = Arrays.copyOf(values, Math.max(size * 2, size + more.length));
    }
    System.arraycopy(more, 0, values, size, more.length);
    size += more.length;
  }

  public int get(int index) {
    return values[index];
  }

  public int size() {
    return size;
  }

  /** The backing array (valid up to {@link #size()}); for readers in this package that must not copy. */
  int[] backingArray() {
    return values;
  }

  public int[] toArray() {
    return Arrays.copyOf(values, size);
  }
}
