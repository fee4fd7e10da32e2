package io.moestream.job.pipeline;

import io.moestream.operators.records.CarriedHeaders;
import io.moestream.operators.records.RoutedGeneration;
import io.moestream.schemas.Generation;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.SerializationSchema;

/**
 * The generations sink's view of a {@link RoutedGeneration}: the Generation's bytes in the output wire
 * format as value ({@link OutputValueSchema}, with its size guard; a registry subject is the output
 * topic's whatever the reply topic), the request id as key, the reply topic and carried
 * headers as its routing.
 */
final class RoutedGenerationSchema implements SerializationSchema<RoutedGeneration>,
    ProducedAtSerializationSchema.Routing<RoutedGeneration> {
  private static final long serialVersionUID = 1L;

  private final SerializationSchema<Generation> value;

  RoutedGenerationSchema(SerializationSchema<Generation> value) {
    this.value = value;
  }

  /** Kafka records of the generations sink: to {@code outputTopic} unless the request named its reply topic. */
  static ProducedAtSerializationSchema<RoutedGeneration> records(String outputTopic, SerializationSchema<Generation> value) {
    RoutedGenerationSchema schema = new RoutedGenerationSchema(value);
    return new ProducedAtSerializationSchema<>(outputTopic,
        r -> r.generation.getRequestId().getBytes(StandardCharsets.UTF_8), schema, schema);
  }

  @Override
  public void open(InitializationContext context) throws Exception {
    value.open(context);
  }

  @Override
  public byte[] serialize(RoutedGeneration element) {
    return value.serialize(element.generation);
  }

  @Override
  public String topic(RoutedGeneration element) {
    return element.replyTopic;
  }

  @Override
  public CarriedHeaders headers(RoutedGeneration element) {
    return element.headers;
  }
}
