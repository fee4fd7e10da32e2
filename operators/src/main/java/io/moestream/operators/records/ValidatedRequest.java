package io.moestream.operators.records;

import io.moestream.schemas.InferenceRequest;

/** A decoded request that passed validation, with its source coordinates for later dead letters. */
public class ValidatedRequest {
  public InferenceRequest request;
  public String topic;
  public int partition;
  public long offset;
  /** Wall-clock ms when the job decoded it: the start of every timing in the Generation. */
  public long receivedAtMs;
  /** Copied from the {@link RawRequest}; null when none. */
  public CarriedHeaders headers;

  public ValidatedRequest() {}

  public ValidatedRequest(InferenceRequest request, String topic, int partition, long offset, long receivedAtMs) {
    this.request = request;
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.receivedAtMs = receivedAtMs;
  }
}
