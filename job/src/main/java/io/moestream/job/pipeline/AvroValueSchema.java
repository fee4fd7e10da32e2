package io.moestream.job.pipeline;

import io.moestream.operators.codec.AvroCodec;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.SerializationSchema;

/** Kafka values of the output topics: Avro binary of the record (see the README's wire format). */
final class AvroValueSchema<T extends SpecificRecordBase> implements SerializationSchema<T> {
  private static final long serialVersionUID = 1L;
  private final Class<T> type;
  private transient AvroCodec<T> codec;

  AvroValueSchema(Class<T> type) {
    this.type = type;
  }

  @Override
  public void open(InitializationContext context) {
    codec = new AvroCodec<>(type);
  }

  @Override
  public byte[] serialize(T element) {
    if (codec == null) {
      codec = new AvroCodec<>(type);
    }
    return codec.encode(element);
  }
}
