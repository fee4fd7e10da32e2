package io.moestream.operators.records;

/**
 * A Kafka record's value as read, with where it came from: what the source emits, before any
 * decoding, so a record that cannot be decoded still reaches the dead-letter topic with its bytes.
 * A Flink POJO (public fields, no-arg constructor).
 */
public class RawRequest {
  public byte[] value;
  public String topic;
  public int partition;
  public long offset;
  /** The record's headers named in kafka.carried_headers; null when it has none of them. */
  public CarriedHeaders headers;

  public RawRequest() {}

  public RawRequest(byte[] value, String topic, int partition, long offset) {
    this.value = value;
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }
}
