package io.moestream.operators.records;

import java.util.Arrays;

/**
 * The Kafka headers of a request the job copies onto its answer (kafka.carried_headers: a trace
 * context, a correlation id): one value per name, in the configured order. A Flink POJO kept in the
 * micro-batcher's and the inference operator's state with the request, so it is bounded where it
 * is read: as many names as the job carries, each value at most limits.max_header_bytes.
 */
public class CarriedHeaders {
  public String[] keys;
  /** The value of {@code keys[i]}; Kafka headers are bytes, not text (a null value stays null). */
  public byte[][] values;

  public CarriedHeaders() {}

  public CarriedHeaders(String[] keys, byte[][] values) {
    if (keys.length != values.length) {
      throw new IllegalArgumentException(keys.length + " header names but " + values.length + " values");
    }
    this.keys = keys;
    this.values = values;
  }

  public int size() {
    return keys == null ? 0 : keys.length;
  }

  /** The bytes of the value of header {@code i}; 0 for a null value. */
  public int valueBytes(int i) {
    return values[i] == null ? 0 : values[i].length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CarriedHeaders h && Arrays.equals(keys, h.keys) && Arrays.deepEquals(values, h.values);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(keys) + Arrays.deepHashCode(values);
  }
}
