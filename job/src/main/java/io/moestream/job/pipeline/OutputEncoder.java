package io.moestream.job.pipeline;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.GenerationJson;
import io.moestream.operators.codec.RegistryAvroCodec;
import io.moestream.operators.codec.WireFormat;
import io.moestream.operators.registry.RegistrySettings;
import io.moestream.operators.registry.SchemaRegistryClient;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecordBase;

/** Writes one output record (a Generation or a DeadLetter) as a Kafka value in one wire format. */
interface OutputEncoder<T extends SpecificRecordBase> {
  byte[] encode(T record);

  /**
   * What an encoder is made from; serializable, so it travels with the job. {@link #open} runs on the
   * TaskManager: with avro-registry it registers our schema under the topic's subject (or finds it
   * registered) and keeps the id for every record after.
   *
   * @param registry null unless {@code format} is avro-registry
   */
  record Spec<T extends SpecificRecordBase>(Class<T> type, WireFormat format, String topic, RegistrySettings registry)
      implements Serializable {
    public Spec {
      if (format == WireFormat.AVRO_REGISTRY && registry == null) {
        throw new IllegalArgumentException("topic " + topic + ": format avro-registry needs kafka.schema_registry.url");
      }
    }

    /** The subject our schema is registered under for this topic. */
    String subject() {
      return registry.subjectStrategy().subject(topic, new AvroCodec<>(type).schema().getFullName());
    }

    OutputEncoder<T> open() {
      AvroCodec<T> avro = new AvroCodec<>(type);
      return switch (format) {
        case AVRO -> avro::encode;
        case JSON -> record -> GenerationJson.toJson(record).getBytes(StandardCharsets.UTF_8);
        case AVRO_REGISTRY -> {
          Schema schema = avro.schema();
          int id = new SchemaRegistryClient(registry).idOf(subject(), schema);
          yield record -> RegistryAvroCodec.frame(id, avro.encode(record));
        }
      };
    }
  }
}
