package io.moestream.job.pipeline;

import io.moestream.operators.records.RawRequest;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Passes Kafka values on undecoded with their coordinates: decoding happens in the validate stage, which can dead-letter. */
final class RawRequestDeserializer implements KafkaRecordDeserializationSchema<RawRequest> {
  private static final long serialVersionUID = 1L;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRequest> out) {
    out.collect(new RawRequest(record.value(), record.topic(), record.partition(), record.offset()));
  }

  @Override
  public TypeInformation<RawRequest> getProducedType() {
    return TypeInformation.of(RawRequest.class);
  }
}
