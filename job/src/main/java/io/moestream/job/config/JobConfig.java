package io.moestream.job.config;

import io.moestream.engine.tokenizer.SpecialTokensInContent;
import java.io.Serializable;
import java.util.List;

/**
 * The whole streaming job's configuration: one YAML file (see {@code job/src/main/resources/moestream.yaml}
 * for every field with its default) plus command-line overrides. Immutable, validated once by
 * {@link JobConfigLoader}.
 */
public record JobConfig(Model model, Kafka kafka, Batching batching, Experts experts, Flink flink, Limits limits)
    implements Serializable {

  /**
   * @param dir Hugging Face model folder (config.json, *.safetensors, tokenizer.json)
   * @param backend "cpu" (default), "auto" (CUDA when the TaskManager has a usable GPU) or "cuda"
   * @param specialTokensInContent what special-token strings typed in chat message content become: text
   *     (default) or control tokens (docs/TOKENIZER.md)
   * @param allowWeightsOverRam run a model whose mapped weights and heap exceed the RAM (weights page from
   *     disk) with a warning instead of refusing it at submit time and on the TaskManagers
   * @param allowCpuFallback with backend auto, run on the CPU (warned) when a TaskManager's GPU is present but
   *     unusable, the model has no CUDA kernels or the CUDA backend fails to start; without it the task fails
   * @param weights "checkpoint" (default: as stored, mapped) or "int8" (projections quantized at load to Q8_0)
   */
  public record Model(String dir, String backend, int threads, String kernels, long kvCacheMb, int maxBatchTokens,
      int maxRunningSequences, SpecialTokensInContent specialTokensInContent, boolean allowWeightsOverRam,
      boolean allowCpuFallback, String weights) implements Serializable {}

  /**
   * @param inputFormat how requests are written: "avro" (binary, schemas/src/main/avro), "avro-registry"
   *     (Confluent Schema Registry framing) or "json" (io.moestream.operators.codec.WireFormat)
   * @param startingOffsets "committed" (group offsets, earliest when none), "earliest" or "latest"
   * @param properties client properties ({@code kafka.properties}: security, compression, ...) of every
   *     Kafka client the job creates
   * @param outputFormat how generations are written: avro, avro-registry or json
   * @param deadLetterFormat how dead letters are written (the output format unless set)
   * @param schemaRegistry null unless {@code kafka.schema_registry.url} is set
   * @param deliveryGuarantee "exactly_once" (transactional sinks: output visible at the checkpoint that
   *     commits it) or "at_least_once" (visible when produced; a failure may duplicate it)
   * @param carriedHeaders the request headers copied onto its generation (first value of each)
   * @param allowedReplyTopics empty: any existing topic may be a request's reply_topic; else topic names,
   *     or prefixes ending in {@code *}
   */
  public record Kafka(String bootstrapServers, String groupId, String inputTopic, String outputTopic,
      String deadLetterTopic, String inputFormat, String transactionalIdPrefix, String startingOffsets,
      long transactionTimeoutMs, KafkaClientProperties properties, String outputFormat, String deadLetterFormat,
      SchemaRegistry schemaRegistry, String deliveryGuarantee, List<String> carriedHeaders,
      List<String> allowedReplyTopics) implements Serializable {

    /** {@code bootstrap.servers} and {@code kafka.properties}: what each client starts from before its own settings. */
    public java.util.Map<String, String> clientConfig() {
      java.util.Map<String, String> config = new java.util.HashMap<>(properties.values());
      config.put("bootstrap.servers", bootstrapServers);
      return java.util.Map.copyOf(config);
    }

    public boolean exactlyOnce() {
      return deliveryGuarantee.equals("exactly_once");
    }
  }

  /**
   * {@code kafka.schema_registry}: the Confluent-compatible REST API of a schema registry.
   *
   * @param url the API's base, e.g. http://registry:8080/apis/ccompat/v7 (Apicurio)
   * @param basicAuthUser null for no authentication
   * @param subjectStrategy topic ({@code <topic>-value}), record or topic-record
   */
  public record SchemaRegistry(String url, String basicAuthUser, String basicAuthPassword, String subjectStrategy)
      implements Serializable {
    /** Without the password: configurations get logged. */
    @Override
    public String toString() {
      return "SchemaRegistry[url=" + url + ", basicAuthUser=" + basicAuthUser + ", subjectStrategy=" + subjectStrategy
          + "]";
    }
  }

  /**
   * @param maxBatchSize requests per micro-batch at most
   * @param latencyBudgetMs the longest a request waits in the micro-batcher
   * @param maxInFlight requests each inference subtask holds at most; at the cap input stops
   */
  public record Batching(int maxBatchSize, long latencyBudgetMs, int maxInFlight) implements Serializable {}

  /**
   * How many routed experts each token activates (docs/EXPERTS.md).
   *
   * @param policy full | fixed:K | schedule:B,H,E,P | threshold:KMIN,T | batch:KMIN,T | adaptive[:L1|L2|...]
   * @param highWatermark pressure (1 = overloaded) above which, held for dwellDownMs, adaptive steps down
   * @param lowWatermark pressure below which, held for dwellUpMs, it steps back up
   * @param waitingAtFull waiting requests that count as pressure 1
   * @param backpressureAtFull share of a second spent refusing input that counts as pressure 1
   * @param batchFillWeight pressure of a full in-flight window
   * @param lagAtFull consumer lag that counts as pressure 1 (0: ignored)
   * @param latencyTargetMs time per output token that counts as pressure 1 (0: ignored)
   * @param pruneExperts keep only this many experts per layer, the most used in {@code expertProfile}
   *     (0: no pruning)
   * @param expertProfile the file {@code profile-experts} wrote ("" without pruning)
   */
  public record Experts(String policy, double highWatermark, double lowWatermark, long dwellDownMs, long dwellUpMs,
      double waitingAtFull, double backpressureAtFull, double batchFillWeight, long lagAtFull, long latencyTargetMs,
      int pruneExperts, String expertProfile) implements Serializable {}

  /**
   * @param checkpointMinPauseMs the least time from one checkpoint's end to the next one's start (0: none),
   *     so that slow checkpoints under load do not run back to back and take the engine's time
   * @param restartAttempts fixed-delay restarts after a failure before the job fails
   * @param maxAttemptsPerRequest attempts (the first and each restore while in flight) after which an
   *     in-flight request is dead-lettered instead of replayed
   */
  public record Flink(String jobName, int parallelism, long checkpointIntervalMs, long checkpointMinPauseMs,
      int restartAttempts,
      long restartDelayMs, int maxAttemptsPerRequest) implements Serializable {}

  /**
   * What one record may hold: each bound keeps one bad record from stopping the job (issue 13).
   *
   * @param maxNewTokens the most tokens a request may ask for
   * @param maxRecordBytes input values bigger than this are dead-lettered without being decoded
   * @param maxPromptBytes the prompt, or the sum of the messages' contents, in UTF-8 bytes
   * @param maxMessages chat messages of one request
   * @param maxDeadLetterRawBytes the most of an undecodable value a dead letter keeps (its length and
   *     SHA-256 always travel whole)
   * @param maxOutputRecordBytes a serialized generation or dead letter above this is replaced by a
   *     small one saying so, never sent: Kafka's producer refuses records above max.request.size
   * @param maxHeaderBytes a request whose carried header has a longer value is dead-lettered
   */
  public record Limits(int maxNewTokens, int maxStopStrings, int maxRecordBytes, int maxPromptBytes, int maxMessages,
      int maxDeadLetterRawBytes, int maxOutputRecordBytes, int maxHeaderBytes) implements Serializable {}
}
