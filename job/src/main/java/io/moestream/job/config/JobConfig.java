package io.moestream.job.config;

import java.io.Serializable;

/**
 * The whole streaming job's configuration: one YAML file (see {@code job/src/main/resources/moestream.yaml}
 * for every field with its default) plus command-line overrides. Immutable, validated once by
 * {@link JobConfigLoader}.
 */
public record JobConfig(Model model, Kafka kafka, Batching batching, Flink flink, Limits limits)
    implements Serializable {

  /**
   * @param dir Hugging Face model folder (config.json, *.safetensors, tokenizer.json)
   * @param backend "cpu" (default), "auto" (CUDA when the TaskManager has a usable GPU) or "cuda"
   */
  public record Model(String dir, String backend, int threads, String kernels, long kvCacheMb, int maxBatchTokens,
      int maxRunningSequences) implements Serializable {}

  /**
   * @param inputFormat "avro" (binary, schemas/src/main/avro) or "json"
   * @param startingOffsets "committed" (group offsets, earliest when none), "earliest" or "latest"
   */
  public record Kafka(String bootstrapServers, String groupId, String inputTopic, String outputTopic,
      String deadLetterTopic, String inputFormat, String transactionalIdPrefix, String startingOffsets,
      long transactionTimeoutMs) implements Serializable {}

  /**
   * @param maxBatchSize requests per micro-batch at most
   * @param latencyBudgetMs the longest a request waits in the micro-batcher
   * @param maxInFlight requests each inference subtask holds at most; at the cap input stops
   */
  public record Batching(int maxBatchSize, long latencyBudgetMs, int maxInFlight) implements Serializable {}

  /** @param restartAttempts fixed-delay restarts after a failure before the job fails */
  public record Flink(String jobName, int parallelism, long checkpointIntervalMs, int restartAttempts,
      long restartDelayMs) implements Serializable {}

  /** @param maxNewTokens the most tokens a request may ask for */
  public record Limits(int maxNewTokens, int maxStopStrings) implements Serializable {}
}
