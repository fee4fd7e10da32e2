package io.moestream.operators.records;

/**
 * A request ready for the engine: prompt token ids and flat sampling settings. A Flink POJO; it is
 * also what the micro-batcher and the inference operator keep in state, so its fields are the
 * state's schema.
 */
public class TokenizedRequest {
  public String requestId;
  public int[] promptIds;
  public int maxNewTokens;
  public float temperature;
  public float topP;
  public int topK;
  public long seed;
  public String[] stop;
  /** 0 low, 1 normal, 2 high. */
  public int priority;
  /** 0 when the request has no deadline. */
  public long deadlineEpochMs;
  /** 0 when the request sets no quality floor. */
  public int minExpertsPerToken;
  public long receivedAtMs;
  /** Where it was read (Kafka topic, or the corpus file); null when unknown (state written before version 2). */
  public String sourceTopic;
  public int sourcePartition;
  /** -1 when unknown. */
  public long sourceOffset = -1;
  /** The request's reply_topic; null: the job's output topic (and in state written before version 3). */
  public String replyTopic;
  /** The request's carried Kafka headers; null when none (and in state written before version 3). */
  public CarriedHeaders headers;

  public TokenizedRequest() {}
}
