package io.moestream.operators.validate;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.FramingHints;
import io.moestream.operators.codec.RegistryAvroCodec;
import io.moestream.operators.codec.RequestJson;
import io.moestream.operators.codec.WireFormat;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.operators.records.RawRequest;
import io.moestream.operators.records.RoutedDeadLetter;
import io.moestream.operators.records.ValidatedRequest;
import io.moestream.operators.registry.RegistrySettings;
import io.moestream.operators.registry.SchemaRegistryClient;
import io.moestream.operators.registry.SchemaRegistryException;
import io.moestream.schemas.InferenceRequest;
import java.util.Optional;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Decodes Kafka values (Avro binary, registry-framed Avro or JSON) and validates them; rejects go to
 * the dead letters. Nothing one record holds fails the task: values over {@code limits.max_record_bytes}
 * are refused unread, the decoders trust no declared length, and any other exception (or a stack
 * overflow or out-of-memory error) raised by one record's decoding or validation dead-letters that
 * record, naming the stage. A failed task would restart and meet the same record again. The one
 * exception is a schema registry that cannot be asked ({@link SchemaRegistryException}): every record
 * would fail alike, so the task fails and its restarts wait for the registry.
 *
 * <p>A value that fails to decode in the configured format is dead-lettered saying what it looks like
 * instead ({@link FramingHints}), never decoded in another format.
 */
public final class DecodeValidateFunction extends ProcessFunction<RawRequest, ValidatedRequest> {
  private static final long serialVersionUID = 1L;

  private final WireFormat format;
  private final RequestLimits limits;
  /** With {@link WireFormat#AVRO_REGISTRY} only; its client is opened in {@link #open}. */
  private final RegistrySettings registry;
  private final RoutingRules routing;
  private transient TopicExistence topics;
  private transient AvroCodec<InferenceRequest> avro;
  private transient RegistryAvroCodec<InferenceRequest> registryAvro;
  private transient RequestJson json;
  private transient RequestValidator validator;
  private transient Counter deadLetters;
  private transient Counter requestsIn;

  /** Plain or JSON input, any legal reply topic, not checked to exist ({@link RoutingRules#ANY}): corpus mode, tests. */
  public DecodeValidateFunction(WireFormat format, RequestLimits limits) {
    this(format, limits, null, RoutingRules.ANY);
  }

  public DecodeValidateFunction(WireFormat format, RequestLimits limits, RoutingRules routing) {
    this(format, limits, null, routing);
  }

  /**
   * @param registry where registry-framed values' schemas are looked up; required with AVRO_REGISTRY
   * @param routing the rules a request's reply_topic and carried headers must meet
   */
  public DecodeValidateFunction(WireFormat format, RequestLimits limits, RegistrySettings registry,
      RoutingRules routing) {
    if (format == WireFormat.AVRO_REGISTRY && registry == null) {
      throw new IllegalArgumentException("input format avro-registry needs kafka.schema_registry.url");
    }
    this.format = format;
    this.limits = limits;
    this.registry = registry;
    this.routing = routing;
  }

  @Override
  public void open(OpenContext context) {
    avro = new AvroCodec<>(InferenceRequest.class, limits.maxDecodedItems());
    if (format == WireFormat.AVRO_REGISTRY) {
      registryAvro = new RegistryAvroCodec<>(InferenceRequest.class, limits.maxDecodedItems(),
          new SchemaRegistryClient(registry));
    }
    json = new RequestJson(new RequestJson.Bounds(limits.maxRecordBytes(), limits.maxDecodedItems(),
        limits.maxDecodedStringChars()));
    validator = new RequestValidator(limits);
    topics = routing.topicExistence() == null ? null : routing.topicExistence().open();
    deadLetters = getRuntimeContext().getMetricGroup().counter(MetricNames.DEAD_LETTERS_VALIDATE);
    requestsIn = getRuntimeContext().getMetricGroup().counter(MetricNames.REQUESTS_IN);
    getRuntimeContext().getMetricGroup().meter(MetricNames.REQUESTS_IN_PER_SECOND,
        new org.apache.flink.metrics.MeterView(requestsIn, 10));
  }

  @Override
  public void processElement(RawRequest raw, Context ctx, Collector<ValidatedRequest> out) {
    requestsIn.inc();
    InferenceRequest request;
    try {
      request = decode(raw.value, raw.topic);
    } catch (SchemaRegistryException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      deadLetter(ctx, raw, DeadLetters.undecodable(raw.value, limits.maxDeadLetterRawBytes(), raw.topic,
          raw.partition, raw.offset, FramingHints.reason(format, raw.value, e.getMessage())));
      return;
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      deadLetter(ctx, raw, DeadLetters.undecodable(raw.value, limits.maxDeadLetterRawBytes(), raw.topic,
          raw.partition, raw.offset, DeadLetters.failed(DeadLetters.STAGE_DECODE, e)));
      return;
    }
    Optional<String> problem;
    try {
      problem = validator.problem(request)
          .or(() -> routing.headersProblem(raw.headers))
          .or(() -> request.getReplyTopic() == null ? Optional.empty()
              : routing.replyTopicProblem(request.getReplyTopic()));
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      problem = Optional.of(DeadLetters.failed(DeadLetters.STAGE_VALIDATE, e));
    }
    // outside the catches: a broker that cannot be asked fails the task (the sink could not write either)
    if (problem.isEmpty() && request.getReplyTopic() != null && topics != null
        && !topics.exists(request.getReplyTopic())) {
      problem = Optional.of("reply_topic: '" + request.getReplyTopic() + "' does not exist (the job does not create"
          + " topics)");
    }
    if (problem.isPresent()) {
      deadLetter(ctx, raw, DeadLetters.rejected(request.getRequestId(), raw.topic, raw.partition, raw.offset,
          DeadLetters.STAGE_VALIDATE, problem.get()));
      return;
    }
    // outside the catches: the operators chained after this one run inside collect, and their
    // failures are theirs (a failed engine must fail the task, not dead-letter the request)
    ValidatedRequest valid = new ValidatedRequest(request, raw.topic, raw.partition, raw.offset,
        System.currentTimeMillis());
    valid.headers = raw.headers;
    out.collect(valid);
  }

  @Override
  public void close() throws Exception {
    if (topics != null) {
      topics.close();
    }
    super.close();
  }

  private InferenceRequest decode(byte[] value, String topic) {
    if (value == null) {
      throw new IllegalArgumentException("the record has no value");
    }
    if (value.length > limits.maxRecordBytes()) {
      throw new IllegalArgumentException("the value is " + value.length + " bytes, over limits.max_record_bytes ("
          + limits.maxRecordBytes() + "); not decoded");
    }
    return switch (format) {
      case AVRO -> avro.decode(value);
      case AVRO_REGISTRY -> registryAvro.decode(value,
          registry.subjectStrategy().subject(topic, InferenceRequest.getClassSchema().getFullName()));
      case JSON -> json.read(value);
    };
  }

  /** {@code letter} with the record's carried headers (those within limits.max_header_bytes). */
  private void deadLetter(Context ctx, RawRequest raw, io.moestream.schemas.DeadLetter letter) {
    deadLetters.inc();
    ctx.output(DeadLetters.TAG, new RoutedDeadLetter(letter, routing.headersWithinLimit(raw.headers)));
  }
}
