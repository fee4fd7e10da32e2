package io.moestream.job.pipeline;

import io.moestream.engine.model.ModelConfig;
import io.moestream.job.config.JobConfig;
import io.moestream.job.config.JobConfigLoader;
import io.moestream.job.config.JobMemoryCheck;
import io.moestream.job.kafka.RecoveryCheckingKafkaSink;
import io.moestream.operators.batching.BatchingSettings;
import io.moestream.operators.batching.MicroBatchOperator;
import io.moestream.operators.codec.WireFormat;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.engine.policy.ControllerSettings;
import io.moestream.operators.inference.ExpertControl;
import io.moestream.operators.inference.InferenceSettings;
import io.moestream.operators.inference.MoeInferenceOperatorFactory;
import io.moestream.operators.inference.RecoverySettings;
import io.moestream.operators.offsets.OffsetCommitter;
import io.moestream.operators.offsets.SkipAnsweredFunction;
import io.moestream.job.kafka.KafkaTopicExistence;
import io.moestream.operators.records.RawRequest;
import io.moestream.operators.records.RoutedDeadLetter;
import io.moestream.operators.records.RoutedGeneration;
import io.moestream.operators.records.RequestBatch;
import io.moestream.operators.records.TokenizedRequest;
import io.moestream.operators.records.ValidatedRequest;
import io.moestream.operators.registry.RegistrySettings;
import io.moestream.operators.registry.SubjectStrategy;
import io.moestream.operators.tokenize.TokenizeFunction;
import io.moestream.operators.validate.DecodeValidateFunction;
import io.moestream.operators.validate.RequestLimits;
import io.moestream.operators.validate.RoutingRules;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.Generation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * The topology: KafkaSource -> decode/validate -> tokenize -> micro-batch -> MoE inference ->
 * KafkaSink (each generation to its request's reply topic or the output topic), with the rejects of
 * every stage on a dead-letter KafkaSink; both exactly once (transactions committed at checkpoints)
 * or both at least once (kafka.delivery_guarantee). Everything is chained into one task per subtask: backpressure from the in-flight cap stops
 * the source reading.
 */
public final class InferencePipeline {
  /** Stable operator ids: state in a savepoint finds its operator again after the job changes. */
  public static final String SOURCE_UID = "kafka-requests";
  public static final String SKIP_ANSWERED_UID = "skip-answered";
  public static final String VALIDATE_UID = "decode-validate";
  public static final String TOKENIZE_UID = "tokenize";
  public static final String BATCH_UID = "micro-batch";
  public static final String INFERENCE_UID = "moe-inference";
  public static final String SINK_UID = "kafka-generations";
  public static final String DEAD_LETTER_SINK_UID = "kafka-dead-letters";

  /** The two streams the job ends in, before their sinks (tests insert steps here). */
  public record Streams(DataStream<RoutedGeneration> generations, DataStream<RoutedDeadLetter> deadLetters) {}

  private InferencePipeline() {}

  /** Checkpointing and restarts as configured. */
  public static void configure(StreamExecutionEnvironment env, JobConfig config) {
    Configuration conf = new Configuration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, config.flink().restartAttempts() == 0 ? "none" : "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, config.flink().restartAttempts());
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
        Duration.ofMillis(config.flink().restartDelayMs()));
    conf.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, Duration.ofMillis(config.flink().checkpointMinPauseMs()));
    env.configure(conf);
    env.enableCheckpointing(config.flink().checkpointIntervalMs(), CheckpointingMode.EXACTLY_ONCE);
    env.setParallelism(config.flink().parallelism());
  }

  /** The whole job: configured environment, operators and both sinks. */
  public static void define(StreamExecutionEnvironment env, JobConfig config) {
    configure(env, config);
    attachSinks(build(env, config), config);
  }

  /** Source to inference; the sinks are attached by {@link #attachSinks}. */
  public static Streams build(StreamExecutionEnvironment env, JobConfig config) {
    JobConfig.Kafka kafka = config.kafka();
    DataStream<RawRequest> raw = env.fromSource(source(kafka), WatermarkStrategy.noWatermarks(), "Kafka requests")
        .uid(SOURCE_UID);
    if (kafka.startingOffsets().equals("committed")) {
      raw = raw.process(new SkipAnsweredFunction(KafkaAnsweredRequests.factory(kafka.clientConfig(),
              kafka.groupId(), kafka.inputTopic(), kafka.outputTopic(), kafka.deadLetterTopic())))
          .name("Skip answered").uid(SKIP_ANSWERED_UID);
    }
    RoutingRules routing = new RoutingRules(kafka.allowedReplyTopics(), config.limits().maxHeaderBytes(),
        KafkaTopicExistence.factory(kafka.clientConfig()));
    return stages(raw, WireFormat.of(kafka.inputFormat()), config, routing,
        KafkaConsumerLag.factory(kafka.clientConfig(), kafka.groupId(), kafka.inputTopic()),
        KafkaOffsetCommitter.factory(kafka.clientConfig(), kafka.groupId()));
  }

  /**
   * Decode/validate -> tokenize -> micro-batch -> inference over any stream of raw requests: the Kafka
   * job and corpus mode (files, BATCH execution) run the same operators.
   *
   * @param consumerLag where the inference operator reads the input's lag; null when there is none
   * @param offsetCommitter where the oldest unanswered offsets are committed; null when nowhere
   */
  public static Streams stages(DataStream<RawRequest> raw, WireFormat format, JobConfig config,
      io.moestream.operators.metrics.ConsumerLag.Factory consumerLag, OffsetCommitter.Factory offsetCommitter) {
    return stages(raw, format, config, RoutingRules.ANY, consumerLag, offsetCommitter);
  }

  /** {@link #stages} with the rules a request's reply_topic and carried headers must meet. */
  public static Streams stages(DataStream<RawRequest> raw, WireFormat format, JobConfig config, RoutingRules routing,
      io.moestream.operators.metrics.ConsumerLag.Factory consumerLag, OffsetCommitter.Factory offsetCommitter) {
    ModelConfig model = ModelConfig.read(Path.of(config.model().dir()));
    JobMemoryCheck.atSubmit(config, raw.getExecutionEnvironment()); // before anything is defined or submitted
    JobConfig.Limits l = config.limits();
    RequestLimits limits = new RequestLimits(l.maxNewTokens(), model.numExpertsPerTok(), l.maxStopStrings(),
        l.maxRecordBytes(), l.maxPromptBytes(), l.maxMessages(), l.maxDeadLetterRawBytes());
    SingleOutputStreamOperator<ValidatedRequest> valid = raw
        .process(new DecodeValidateFunction(format, limits, registrySettings(config.kafka()), routing))
        .name("Decode and validate").uid(VALIDATE_UID);
    SingleOutputStreamOperator<TokenizedRequest> tokenized = valid
        .process(new TokenizeFunction(config.model().dir(), config.model().specialTokensInContent()))
        .name("Tokenize").uid(TOKENIZE_UID);
    BatchingSettings batching = new BatchingSettings(config.batching().maxBatchSize(), config.batching().latencyBudgetMs());
    DataStream<RequestBatch> batches = tokenized
        .transform("Micro-batch by load", TypeInformation.of(RequestBatch.class), new MicroBatchOperator(batching))
        .uid(BATCH_UID);
    InferenceSettings inference = inferenceSettings(config);
    RecoverySettings recovery = new RecoverySettings(config.flink().maxAttemptsPerRequest(), offsetCommitter);
    SingleOutputStreamOperator<RoutedGeneration> generations = batches
        .transform("MoE inference", TypeInformation.of(RoutedGeneration.class),
            new MoeInferenceOperatorFactory(inference, expertControl(config, model), consumerLag, recovery))
        .uid(INFERENCE_UID);
    DataStream<RoutedDeadLetter> deadLetters = valid.getSideOutput(DeadLetters.TAG)
        .union(tokenized.getSideOutput(DeadLetters.TAG), generations.getSideOutput(DeadLetters.TAG));
    return new Streams(generations, deadLetters);
  }

  /** How each inference subtask runs its engine under {@code config}. */
  public static InferenceSettings inferenceSettings(JobConfig config) {
    return new InferenceSettings(config.model().dir(), config.batching().maxInFlight(),
        config.model().threads(), config.model().kernels(), config.model().kvCacheMb() << 20,
        config.model().maxBatchTokens(), config.model().maxRunningSequences(), config.model().backend(),
        config.model().allowWeightsOverRam(), config.model().allowCpuFallback(),
        config.model().weights());
  }

  /** The policy and controller of {@code experts:}, with the pruning mask read from the profile here. */
  public static ExpertControl expertControl(JobConfig config, ModelConfig model) {
    JobConfig.Experts e = config.experts();
    ControllerSettings controller = new ControllerSettings(e.highWatermark(), e.lowWatermark(),
        e.dwellDownMs() * 1_000_000L, e.dwellUpMs() * 1_000_000L, e.waitingAtFull(), e.backpressureAtFull(),
        e.batchFillWeight(), e.lagAtFull());
    return new ExpertControl(e.policy(), controller, e.latencyTargetMs(),
        JobConfigLoader.prunedExperts(e, model));
  }

  /** Where registry-framed topics find their schemas; null when no registry is configured. */
  public static RegistrySettings registrySettings(JobConfig.Kafka kafka) {
    JobConfig.SchemaRegistry r = kafka.schemaRegistry();
    return r == null ? null : new RegistrySettings(r.url(), r.basicAuthUser(), r.basicAuthPassword(),
        SubjectStrategy.of(r.subjectStrategy()));
  }

  public static void attachSinks(Streams streams, JobConfig config) {
    JobConfig.Kafka kafka = config.kafka();
    RegistrySettings registry = registrySettings(kafka);
    var generationFormat = new OutputEncoder.Spec<>(Generation.class, WireFormat.of(kafka.outputFormat()),
        kafka.outputTopic(), registry);
    var deadLetterFormat = new OutputEncoder.Spec<>(DeadLetter.class, WireFormat.of(kafka.deadLetterFormat()),
        kafka.deadLetterTopic(), registry);
    streams.generations().sinkTo(sink(kafka, kafka.transactionalIdPrefix() + "-generations",
            RoutedGenerationSchema.records(kafka.outputTopic(),
                OutputValueSchema.generations(generationFormat, config.limits().maxOutputRecordBytes()))))
        .name("Kafka generations").uid(SINK_UID);
    streams.deadLetters().sinkTo(sink(kafka, kafka.transactionalIdPrefix() + "-dead-letters",
            RoutedDeadLetterSchema.records(kafka.deadLetterTopic(),
                OutputValueSchema.deadLetters(deadLetterFormat, config.limits().maxOutputRecordBytes()))))
        .name("Kafka dead letters").uid(DEAD_LETTER_SINK_UID);
  }

  static KafkaSource<RawRequest> source(JobConfig.Kafka kafka) {
    OffsetsInitializer offsets = switch (kafka.startingOffsets()) {
      case "earliest" -> OffsetsInitializer.earliest();
      case "latest" -> OffsetsInitializer.latest();
      default -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
    };
    return KafkaSource.<RawRequest>builder()
        .setProperties(kafka.properties().with(kafka.bootstrapServers())) // kafka.properties first: the job's own follow
        .setTopics(kafka.inputTopic())
        .setGroupId(kafka.groupId())
        .setStartingOffsets(offsets)
        .setDeserializer(new RawRequestDeserializer(kafka.carriedHeaders()))
        // requests written in producer transactions count only once committed
        .setProperty("isolation.level", "read_committed")
        // the inference operator commits the oldest unanswered offset instead (KafkaOffsetCommitter)
        .setProperty("commit.offsets.on.checkpoint", "false")
        .build();
  }

  /**
   * A Kafka sink with kafka.delivery_guarantee. At least once it writes without transactions (flushing
   * at each checkpoint) and its committer has nothing to commit; it keeps the same wrapper and
   * transactional id prefix so that the job's topology, and its state, are the same either way.
   */
  private static <T> RecoveryCheckingKafkaSink<T> sink(JobConfig.Kafka kafka, String transactionalIdPrefix,
      KafkaRecordSerializationSchema<T> serializer) {
    KafkaSink<T> sink = KafkaSink.<T>builder()
        .setKafkaProducerConfig(kafka.properties().with(kafka.bootstrapServers()))
        .setRecordSerializer(serializer)
        .setDeliveryGuarantee(kafka.exactlyOnce() ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE)
        .setTransactionalIdPrefix(transactionalIdPrefix)
        .setProperty("transaction.timeout.ms", Long.toString(kafka.transactionTimeoutMs()))
        .build();
    // after a restore, a transaction committed before the failure is reported committed, not "fenced, data loss"
    Properties admin = kafka.properties().with(kafka.bootstrapServers());
    return new RecoveryCheckingKafkaSink<>(sink, admin);
  }
}
