package io.moestream.operators.validate;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.RequestJson;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.operators.records.RawRequest;
import io.moestream.operators.records.ValidatedRequest;
import io.moestream.schemas.InferenceRequest;
import java.util.Optional;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Decodes Kafka values (Avro binary or JSON) and validates them; rejects go to the dead letters. Nothing
 * one record holds fails the task: values over {@code limits.max_record_bytes} are refused unread, the
 * decoders trust no declared length, and any other exception (or a stack overflow or out-of-memory
 * error) raised by one record's decoding or validation dead-letters that record, naming the stage. A
 * failed task would restart and meet the same record again.
 */
public final class DecodeValidateFunction extends ProcessFunction<RawRequest, ValidatedRequest> {
  private static final long serialVersionUID = 1L;

  /** How request values are encoded on the input topic. */
  public enum InputFormat { AVRO, JSON }

  private final InputFormat format;
  private final RequestLimits limits;
  private final RoutingRules routing;
  private transient TopicExistence topics;
  private transient AvroCodec<InferenceRequest> avro;
  private transient RequestJson json;
  private transient RequestValidator validator;
  private transient Counter deadLetters;
  private transient Counter requestsIn;

  /** Any legal reply topic, not checked to exist ({@link RoutingRules#ANY}): corpus mode and tests. */
  public DecodeValidateFunction(InputFormat format, RequestLimits limits) {
    this(format, limits, RoutingRules.ANY);
  }

  public DecodeValidateFunction(InputFormat format, RequestLimits limits, RoutingRules routing) {
    this.format = format;
    this.limits = limits;
    this.routing = routing;
  }

  @Override
  public void open(OpenContext context) {
    avro = new AvroCodec<>(InferenceRequest.class, limits.maxDecodedItems());
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
      request = decode(raw.value);
    } catch (IllegalArgumentException e) {
      deadLetter(ctx, DeadLetters.undecodable(raw.value, limits.maxDeadLetterRawBytes(), raw.topic, raw.partition,
          raw.offset, e.getMessage()));
      return;
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      deadLetter(ctx, DeadLetters.undecodable(raw.value, limits.maxDeadLetterRawBytes(), raw.topic, raw.partition,
          raw.offset, DeadLetters.failed(DeadLetters.STAGE_DECODE, e)));
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
      deadLetter(ctx, DeadLetters.rejected(request.getRequestId(), raw.topic, raw.partition, raw.offset,
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

  private InferenceRequest decode(byte[] value) {
    if (value == null) {
      throw new IllegalArgumentException("the record has no value");
    }
    if (value.length > limits.maxRecordBytes()) {
      throw new IllegalArgumentException("the value is " + value.length + " bytes, over limits.max_record_bytes ("
          + limits.maxRecordBytes() + "); not decoded");
    }
    return format == InputFormat.AVRO ? avro.decode(value) : json.read(value);
  }

  private void deadLetter(Context ctx, io.moestream.schemas.DeadLetter letter) {
    deadLetters.inc();
    ctx.output(DeadLetters.TAG, letter);
  }
}
