package io.moestream.operators.metrics;

/** Every metric the operators register, by name. Gauges and counters live in the operator metric group. */
public final class MetricNames {
  private MetricNames() {}

  // ---- load signals (inference operator): what the expert-activation policy reads --------------
  /** Requests accepted by the operator and not yet admitted to the running decode batch. */
  public static final String WAITING_REQUESTS = "moeWaitingRequests";
  /** Sequences in the engine's running decode batch. */
  public static final String RUNNING_BATCH_SIZE = "moeRunningBatchSize";
  /** Requests accepted and not yet answered (waiting + running); capped by max-in-flight. */
  public static final String IN_FLIGHT_REQUESTS = "moeInFlightRequests";
  /** The fixed cap on in-flight requests. */
  public static final String MAX_IN_FLIGHT_REQUESTS = "moeMaxInFlightRequests";
  /** Total ms the operator has refused input because the in-flight cap was reached. */
  public static final String BACKPRESSURED_TIME_MS = "moeBackpressuredTimeMs";
  /** Share of the last second spent refusing input (0..1). */
  public static final String BACKPRESSURED_RATIO = "moeBackpressuredRatio";
  /** Free KV-cache blocks. */
  public static final String KV_FREE_BLOCKS = "moeKvCacheFreeBlocks";
  /** Records the job's consumer group is behind on the input topic (-1 while unknown). */
  public static final String CONSUMER_LAG = "moeConsumerLag";
  /** Experts per token the operator admits new requests with now. */
  public static final String EXPERTS_PER_TOKEN = "moeExpertsPerToken";

  // ---- work done ----------------------------------------------------------------------------
  public static final String GENERATIONS = "moeGenerations";
  public static final String GENERATED_TOKENS = "moeGeneratedTokens";
  public static final String DECODE_STEPS = "moeDecodeSteps";
  public static final String REPLAYED_REQUESTS = "moeReplayedRequests";
  public static final String BATCHES = "moeMicroBatches";
  public static final String BATCH_TARGET_SIZE = "moeMicroBatchTargetSize";

  // ---- rejects --------------------------------------------------------------------------------
  public static final String DEAD_LETTERS_VALIDATE = "moeDeadLettersValidate";
  public static final String DEAD_LETTERS_TOKENIZE = "moeDeadLettersTokenize";
}
