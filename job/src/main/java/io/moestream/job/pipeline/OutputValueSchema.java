package io.moestream.job.pipeline;

import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.FinishReason;
import io.moestream.schemas.Generation;
import java.io.Serializable;
import java.util.List;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.SimpleCounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka values of the output topics, in the topic's wire format ({@link OutputEncoder}). The last guard
 * before the producer, whatever the format: a record whose encoded bytes are more than {@code maxBytes}
 * is never sent as is (the producer refuses it with RecordTooLargeException, the sink fails, and the
 * restart meets the record again); a small one saying so goes instead, counted and logged.
 */
final class OutputValueSchema<T extends SpecificRecordBase> implements SerializationSchema<T> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(OutputValueSchema.class);

  /** What replaces {@code record}, which serialized to {@code bytes} bytes, over {@code limit}. */
  interface Replacement<T> extends Serializable {
    T replace(T record, int bytes, int limit);
  }

  private final OutputEncoder.Spec<T> spec;
  private final int maxBytes;
  private final Replacement<T> replacement;
  /** Opened from the spec on the TaskManager: a registry client is not serializable. */
  private transient OutputEncoder<T> encoder;
  private transient Counter cut;

  OutputValueSchema(OutputEncoder.Spec<T> spec, int maxBytes, Replacement<T> replacement) {
    this.spec = spec;
    this.maxBytes = maxBytes;
    this.replacement = replacement;
  }

  /** Generations: the answer becomes an ERROR without text or tokens, saying how big it was. */
  static OutputValueSchema<Generation> generations(OutputEncoder.Spec<Generation> spec, int maxBytes) {
    return new OutputValueSchema<>(spec, maxBytes, OutputValueSchema::smallGeneration);
  }

  /** Dead letters: without raw bytes, with a short reason ({@link DeadLetters#minimal}). */
  static OutputValueSchema<DeadLetter> deadLetters(OutputEncoder.Spec<DeadLetter> spec, int maxBytes) {
    return new OutputValueSchema<>(spec, maxBytes, DeadLetters::minimal);
  }

  @Override
  public void open(InitializationContext context) {
    if (encoder == null) {
      encoder = spec.open();
    }
    if (cut == null) {
      // the Kafka writer may open its serializer twice: a second counter of the same name is not reported
      cut = context.getMetricGroup().counter(MetricNames.OUTPUT_RECORDS_CUT);
    }
  }

  @Override
  public byte[] serialize(T element) {
    if (encoder == null) {
      encoder = spec.open();
    }
    if (cut == null) {
      cut = new SimpleCounter();
    }
    byte[] bytes = encoder.encode(element);
    if (bytes.length <= maxBytes) {
      return bytes;
    }
    cut.inc();
    T small = replacement.replace(element, bytes.length, maxBytes);
    byte[] smallBytes = encoder.encode(small);
    LOG.warn("{} of {} bytes ({}) is over limits.max_output_record_bytes ({}): sent a {}-byte replacement instead: {}",
        spec.type().getSimpleName(), bytes.length, spec.format().configName(), maxBytes, smallBytes.length,
        describe(small));
    return smallBytes;
  }

  static Generation smallGeneration(Generation g, int bytes, int limit) {
    return Generation.newBuilder(g).setText("").setTokenIds(List.of()).setFinishReason(FinishReason.ERROR)
        .setError("the generation serialized to " + bytes + " bytes, over limits.max_output_record_bytes (" + limit
            + "); its text and token ids were dropped")
        .build();
  }

  private static String describe(Object record) {
    if (record instanceof Generation g) {
      return "request " + g.getRequestId();
    }
    if (record instanceof DeadLetter d) {
      return "dead letter of " + d.getTopic() + "-" + d.getPartition() + "@" + d.getOffset()
          + (d.getRequestId() == null ? "" : " (request " + d.getRequestId() + ")");
    }
    return "";
  }
}
