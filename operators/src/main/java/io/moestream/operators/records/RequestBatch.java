package io.moestream.operators.records;

/** Requests the micro-batcher hands to the inference operator together. */
public class RequestBatch {
  public TokenizedRequest[] requests;

  public RequestBatch() {}

  public RequestBatch(TokenizedRequest[] requests) {
    this.requests = requests;
  }

  public int size() {
    return requests.length;
  }
}
