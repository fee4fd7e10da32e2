package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.KafkaConsumerLag;
import io.moestream.operators.metrics.ConsumerLag;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The consumer-lag load signal against a real broker: records past the group's committed offsets. */
class ConsumerLagTest {
  @Test
  void lagIsWhatTheGroupHasNotCommitted() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      kafka.createTopics(2, "lag.requests");
      try (KafkaProducer<byte[], byte[]> producer = TopicClients.producer(kafka.bootstrapServers())) {
        for (int i = 0; i < 100; i++) {
          producer.send(new ProducerRecord<>("lag.requests", i < 60 ? 0 : 1, null, new byte[] {1}));
        }
        producer.flush();
      }
      try (ConsumerLag lag = KafkaConsumerLag.factory(java.util.Map.of("bootstrap.servers", kafka.bootstrapServers()),
          "lag-group", "lag.requests").open()) {
        assertEquals(100, awaitLag(lag, 100), "no commits yet: the whole topic");
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (Admin admin = Admin.create(props)) {
          admin.alterConsumerGroupOffsets("lag-group", Map.of(new TopicPartition("lag.requests", 0),
              new OffsetAndMetadata(10))).all().get();
        }
        assertEquals(90, awaitLag(lag, 90), "50 left on partition 0, 40 on partition 1");
      }
    }
  }

  private static long awaitLag(ConsumerLag lag, long expected) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 15_000;
    long seen = lag.recordsBehind();
    while (seen != expected && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
      seen = lag.recordsBehind();
    }
    return seen;
  }
}
