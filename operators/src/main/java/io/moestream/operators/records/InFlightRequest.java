package io.moestream.operators.records;

/**
 * What the inference operator checkpoints for a request it has accepted and not yet answered: the
 * request, the tokens generated so far, and the experts per token it was admitted with (fixed for
 * the request's life, so a replay routes exactly as the first run did).
 */
public class InFlightRequest {
  public TokenizedRequest request;
  public int[] generated;
  public int expertsPerToken;
  public double expertsUsedSum;
  public long admittedAtMs;
  /** 0 until the first token. */
  public long firstTokenAtMs;

  public InFlightRequest() {}
}
