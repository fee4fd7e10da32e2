package io.moestream.job.pipeline;

import io.moestream.operators.records.CarriedHeaders;
import io.moestream.operators.records.RoutedDeadLetter;
import io.moestream.schemas.DeadLetter;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.SerializationSchema;

/**
 * The dead-letter sink's view of a {@link RoutedDeadLetter}: the DeadLetter's bytes in the dead-letter
 * wire format as value ({@link OutputValueSchema}, with its size guard), the request id (when known)
 * as key, always the dead-letter topic, and the request's carried headers as Kafka headers, as its
 * generation would have had them.
 */
final class RoutedDeadLetterSchema implements SerializationSchema<RoutedDeadLetter>,
    ProducedAtSerializationSchema.Routing<RoutedDeadLetter> {
  private static final long serialVersionUID = 1L;

  private final SerializationSchema<DeadLetter> value;

  RoutedDeadLetterSchema(SerializationSchema<DeadLetter> value) {
    this.value = value;
  }

  /** Kafka records of the dead-letter sink, all to {@code deadLetterTopic}. */
  static ProducedAtSerializationSchema<RoutedDeadLetter> records(String deadLetterTopic,
      SerializationSchema<DeadLetter> value) {
    RoutedDeadLetterSchema schema = new RoutedDeadLetterSchema(value);
    return new ProducedAtSerializationSchema<>(deadLetterTopic, RoutedDeadLetterSchema::key, schema, schema);
  }

  private static byte[] key(RoutedDeadLetter d) {
    String id = d.deadLetter.getRequestId();
    return id == null ? null : id.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void open(InitializationContext context) throws Exception {
    value.open(context);
  }

  @Override
  public byte[] serialize(RoutedDeadLetter element) {
    return value.serialize(element.deadLetter);
  }

  @Override
  public String topic(RoutedDeadLetter element) {
    return null; // dead letters never follow a request's reply_topic
  }

  @Override
  public CarriedHeaders headers(RoutedDeadLetter element) {
    return element.headers;
  }
}
