package io.moestream.job.pipeline;

import io.moestream.operators.codec.AvroCodec;
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
 * Kafka values of the output topics: Avro binary of the record (see the README's wire format). The
 * last guard before the producer: a record that serializes bigger than {@code maxBytes} is never sent
 * as is (the producer refuses it with RecordTooLargeException, the sink fails, and the restart meets
 * the record again); a small one saying so goes instead, counted and logged.
 */
final class AvroValueSchema<T extends SpecificRecordBase> implements SerializationSchema<T> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(AvroValueSchema.class);

  /** What replaces {@code record}, which serialized to {@code bytes} bytes, over {@code limit}. */
  interface Replacement<T> extends Serializable {
    T replace(T record, int bytes, int limit);
  }

  private final Class<T> type;
  private final int maxBytes;
  private final Replacement<T> replacement;
  private transient AvroCodec<T> codec;
  private transient Counter cut;

  AvroValueSchema(Class<T> type, int maxBytes, Replacement<T> replacement) {
    this.type = type;
    this.maxBytes = maxBytes;
    this.replacement = replacement;
  }

  /** Generations: the answer becomes an ERROR without text or tokens, saying how big it was. */
  static AvroValueSchema<Generation> generations(int maxBytes) {
    return new AvroValueSchema<>(Generation.class, maxBytes, AvroValueSchema::smallGeneration);
  }

  /** Dead letters: without raw bytes, with a short reason ({@link DeadLetters#minimal}). */
  static AvroValueSchema<DeadLetter> deadLetters(int maxBytes) {
    return new AvroValueSchema<>(DeadLetter.class, maxBytes, DeadLetters::minimal);
  }

  @Override
  public void open(InitializationContext context) {
    codec = new AvroCodec<>(type);
    if (cut == null) {
      // the Kafka writer may open its serializer twice: a second counter of the same name is not reported
      cut = context.getMetricGroup().counter(MetricNames.OUTPUT_RECORDS_CUT);
    }
  }

  @Override
  public byte[] serialize(T element) {
    if (codec == null) {
      codec = new AvroCodec<>(type);
    }
    if (cut == null) {
      cut = new SimpleCounter();
    }
    byte[] bytes = codec.encode(element);
    if (bytes.length <= maxBytes) {
      return bytes;
    }
    cut.inc();
    T small = replacement.replace(element, bytes.length, maxBytes);
    byte[] smallBytes = codec.encode(small);
    LOG.warn("{} of {} bytes is over limits.max_output_record_bytes ({}): sent a {}-byte replacement instead: {}",
        type.getSimpleName(), bytes.length, maxBytes, smallBytes.length, describe(small));
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
