package io.moestream.operators.records;

/**
 * What the inference operator checkpoints for a request it has accepted and not yet answered: the
 * request, the tokens generated so far and what the experts did for it. A replay recomputes the
 * generated tokens (never re-samples them) and continues at the policy level then in force.
 */
public class InFlightRequest {
  public TokenizedRequest request;
  public int[] generated;
  /** The fewest experts per token its steps allowed so far (reported as {@code ExpertsUsed.min}). */
  public int expertsPerToken;
  public double expertsUsedSum;
  public long admittedAtMs;
  /** 0 until the first token. */
  public long firstTokenAtMs;

  public InFlightRequest() {}
}
