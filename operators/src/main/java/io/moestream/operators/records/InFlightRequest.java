package io.moestream.operators.records;

/**
 * What the inference operator checkpoints for a request it has accepted and not yet answered: the
 * request, the tokens generated so far and what the experts did for it. A replay recomputes the
 * generated tokens (never re-samples them) and continues at the policy level then in force.
 */
public class InFlightRequest {
  /**
   * The layout of this state: 0 (absent in state written before versions existed) is read as 1;
   * 2 added the request's source coordinates and {@link #restores}; 3 added the request's reply
   * topic and carried headers ({@link TokenizedRequest#replyTopic}, {@link TokenizedRequest#headers}),
   * null in older entries, which answer to the output topic without headers as they would have. A release that changes the
   * meaning of a field raises it and converts older entries in the operator's restore. Not
   * initialised here: Flink's POJO serializer builds restored entries with the no-arg constructor,
   * so an entry written without the field must read as 0, not as the current version.
   */
  public static final int CURRENT_VERSION = 3;

  public int version;
  public TokenizedRequest request;
  public int[] generated;
  /** The fewest experts per token its tokens used at a sparse layer so far (reported as {@code ExpertsUsed.min}). */
  public int expertsPerToken;
  public double expertsUsedSum;
  public long admittedAtMs;
  /** 0 until the first token. */
  public long firstTokenAtMs;
  /** How many times the job was restored while this request was in flight (the poison-pill guard). */
  public int restores;

  public InFlightRequest() {}
}
