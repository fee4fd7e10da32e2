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

/** Decodes Kafka values (Avro binary or JSON) and validates them; rejects go to the dead letters. */
public final class DecodeValidateFunction extends ProcessFunction<RawRequest, ValidatedRequest> {
  private static final long serialVersionUID = 1L;

  /** How request values are encoded on the input topic. */
  public enum InputFormat { AVRO, JSON }

  private final InputFormat format;
  private final RequestLimits limits;
  private transient AvroCodec<InferenceRequest> avro;
  private transient RequestValidator validator;
  private transient Counter deadLetters;
  private transient Counter requestsIn;

  public DecodeValidateFunction(InputFormat format, RequestLimits limits) {
    this.format = format;
    this.limits = limits;
  }

  @Override
  public void open(OpenContext context) {
    avro = new AvroCodec<>(InferenceRequest.class);
    validator = new RequestValidator(limits);
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
      request = format == InputFormat.AVRO ? avro.decode(raw.value) : RequestJson.parse(raw.value == null ? new byte[0] : raw.value);
    } catch (IllegalArgumentException e) {
      deadLetters.inc();
      ctx.output(DeadLetters.TAG, DeadLetters.undecodable(raw.value, raw.topic, raw.partition, raw.offset, e.getMessage()));
      return;
    }
    Optional<String> problem = validator.problem(request);
    if (problem.isPresent()) {
      deadLetters.inc();
      ctx.output(DeadLetters.TAG, DeadLetters.rejected(request.getRequestId(), raw.topic, raw.partition, raw.offset,
          DeadLetters.STAGE_VALIDATE, problem.get()));
      return;
    }
    out.collect(new ValidatedRequest(request, raw.topic, raw.partition, raw.offset, System.currentTimeMillis()));
  }
}
