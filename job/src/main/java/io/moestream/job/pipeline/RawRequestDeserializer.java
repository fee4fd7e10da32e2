package io.moestream.job.pipeline;

import io.moestream.operators.records.CarriedHeaders;
import io.moestream.operators.records.RawRequest;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Passes Kafka values on undecoded with their coordinates: decoding happens in the validate stage,
 * which can dead-letter. Of the record's headers, only those named in kafka.carried_headers travel
 * (the first value of each), so a request carries as many headers as the job names at most; their
 * sizes are checked in the validate stage.
 */
final class RawRequestDeserializer implements KafkaRecordDeserializationSchema<RawRequest> {
  private static final long serialVersionUID = 1L;

  private final String[] carried;

  RawRequestDeserializer(List<String> carriedHeaders) {
    this.carried = carriedHeaders.toArray(new String[0]);
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRequest> out) {
    RawRequest raw = new RawRequest(record.value(), record.topic(), record.partition(), record.offset());
    raw.headers = carried(record);
    out.collect(raw);
  }

  private CarriedHeaders carried(ConsumerRecord<byte[], byte[]> record) {
    if (carried.length == 0 || record.headers() == null) {
      return null;
    }
    String[] keys = new String[carried.length];
    byte[][] values = new byte[carried.length][];
    int n = 0;
    for (String name : carried) {
      Header h = record.headers().lastHeader(name) == null ? null : record.headers().headers(name).iterator().next();
      if (h != null) {
        keys[n] = name;
        values[n++] = h.value();
      }
    }
    return n == 0 ? null : new CarriedHeaders(java.util.Arrays.copyOf(keys, n), java.util.Arrays.copyOf(values, n));
  }

  @Override
  public TypeInformation<RawRequest> getProducedType() {
    return TypeInformation.of(RawRequest.class);
  }
}
