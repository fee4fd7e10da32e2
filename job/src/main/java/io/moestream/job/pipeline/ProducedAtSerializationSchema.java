package io.moestream.job.pipeline;

import io.moestream.operators.records.CarriedHeaders;
import java.io.Serializable;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Output records stamped with the time they were produced. Flink's default serializer passes on
 * the stream record's timestamp, which for a dead letter is its input record's, set by whoever
 * produced the request: a new job looking for what an earlier one answered since some time
 * ({@link KafkaAnsweredRequests}) could then seek past it.
 *
 * <p>With a {@link Routing}, each record goes to its own topic (a request's reply_topic) when it has
 * one, else to the sink's, with its carried headers: the sink's topic selector, so the record is
 * written in the same transaction as every other.
 */
final class ProducedAtSerializationSchema<T> implements KafkaRecordSerializationSchema<T> {
  private static final long serialVersionUID = 1L;

  /** Where one element goes and what headers it takes. */
  interface Routing<T> extends Serializable {
    /** null: the sink's topic. */
    String topic(T element);

    /** null: none. */
    CarriedHeaders headers(T element);
  }

  private final String topic;
  private final SerializationSchema<T> key;
  private final SerializationSchema<T> value;
  private final Routing<T> routing;

  ProducedAtSerializationSchema(String topic, SerializationSchema<T> key, SerializationSchema<T> value) {
    this(topic, key, value, null);
  }

  /** @param routing null: every record to {@code topic}, without headers */
  ProducedAtSerializationSchema(String topic, SerializationSchema<T> key, SerializationSchema<T> value,
      Routing<T> routing) {
    this.topic = topic;
    this.key = key;
    this.value = value;
    this.routing = routing;
  }

  @Override
  public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) throws Exception {
    key.open(context);
    value.open(context);
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
    String to = routing == null ? null : routing.topic(element);
    CarriedHeaders carried = routing == null ? null : routing.headers(element);
    RecordHeaders headers = new RecordHeaders();
    for (int i = 0; carried != null && i < carried.size(); i++) {
      headers.add(carried.keys[i], carried.values[i]);
    }
    return new ProducerRecord<>(to == null ? topic : to, null, System.currentTimeMillis(), key.serialize(element),
        value.serialize(element), headers);
  }
}
