package io.moestream.job.pipeline;

import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Output records stamped with the time they were produced. Flink's default serializer passes on
 * the stream record's timestamp, which for a dead letter is its input record's, set by whoever
 * produced the request: a new job looking for what an earlier one answered since some time
 * ({@link KafkaAnsweredRequests}) could then seek past it.
 */
final class ProducedAtSerializationSchema<T> implements KafkaRecordSerializationSchema<T> {
  private static final long serialVersionUID = 1L;

  private final String topic;
  private final SerializationSchema<T> key;
  private final SerializationSchema<T> value;

  ProducedAtSerializationSchema(String topic, SerializationSchema<T> key, SerializationSchema<T> value) {
    this.topic = topic;
    this.key = key;
    this.value = value;
  }

  @Override
  public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) throws Exception {
    key.open(context);
    value.open(context);
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
    return new ProducerRecord<>(topic, null, System.currentTimeMillis(), key.serialize(element),
        value.serialize(element));
  }
}
