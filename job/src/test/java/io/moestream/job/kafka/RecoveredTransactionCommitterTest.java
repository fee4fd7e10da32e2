package io.moestream.job.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.Committer.CommitRequest;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer;
import org.apache.flink.connector.kafka.sink.internal.KafkaCommitter;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Restored committables against a real broker (Kafka 4.x, transaction version 2), as the sink's
 * committer sees them after a TaskManager died: the connector's committer calls a transaction that
 * was committed before the failure fenced; the checking committer reports it committed, still
 * commits one that was left open, and leaves one that was aborted failed.
 */
class RecoveredTransactionCommitterTest {
  static final String TOPIC = "recovered";
  static EmbeddedKafka kafka;

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.start();
    kafka.createTopics(1, TOPIC);
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void aTransactionCommittedBeforeTheFailureIsFencedForTheConnectorAndCommittedForTheCheck() throws Exception {
    KafkaCommittable raw = transaction("committed-raw", Ending.COMMIT);
    Request plain = new Request(raw);
    try (Committer<KafkaCommittable> committer = connectorCommitter("raw")) {
      committer.commit(List.of(plain));
    }
    assertEquals("failedWithKnownReason", plain.outcome, "the connector's own re-commit");
    assertInstanceOf(ProducerFencedException.class, plain.failure);

    Request checked = new Request(transaction("committed-checked", Ending.COMMIT));
    try (Committer<KafkaCommittable> committer = checkingCommitter("checked")) {
      committer.commit(List.of(checked));
    }
    assertEquals("alreadyCommitted", checked.outcome);
    List<String> values = committedValues();
    for (String id : List.of("committed-raw", "committed-checked")) {
      assertEquals(1, values.stream().filter(id::equals).count(), id + " in " + values + ": once, as committed before");
    }
  }

  @Test
  void aTransactionLeftOpenIsCommittedAndAnAbortedOneStaysFailed() throws Exception {
    Request open = new Request(transaction("open", Ending.LEAVE_OPEN));
    Request aborted = new Request(transaction("aborted", Ending.ABORT));
    try (Committer<KafkaCommittable> committer = checkingCommitter("mixed")) {
      committer.commit(List.of(open, aborted));
    }
    assertEquals("committed", open.outcome);
    assertEquals("failedWithKnownReason", aborted.outcome);
    assertInstanceOf(ProducerFencedException.class, aborted.failure);
    assertEquals(true, committedValues().contains("open"), "the open transaction's record");
    assertEquals(false, committedValues().contains("aborted"), "the aborted transaction's record");
  }

  enum Ending { COMMIT, ABORT, LEAVE_OPEN }

  /**
   * One transaction of one record (its transactional id as value) written as the sink's writer
   * writes it; returns its committable as a checkpoint holds it (without the producer).
   */
  private static KafkaCommittable transaction(String id, Ending ending) {
    FlinkKafkaInternalProducer<byte[], byte[]> producer = new FlinkKafkaInternalProducer<>(producerConfig(), id);
    producer.initTransactions();
    producer.beginTransaction();
    producer.send(new ProducerRecord<>(TOPIC, id.getBytes(StandardCharsets.UTF_8)));
    producer.flush();
    KafkaCommittable committable = new KafkaCommittable(producer.getProducerId(), producer.getEpoch(), id, null);
    switch (ending) {
      case COMMIT -> producer.commitTransaction();
      case ABORT -> producer.abortTransaction();
      case LEAVE_OPEN -> { } // as a killed TaskManager leaves it
    }
    producer.close(); // at once, as a kill: no abort
    return committable;
  }

  private static Committer<KafkaCommittable> connectorCommitter(String prefix) {
    return new KafkaCommitter(producerConfig(), prefix, 0, 0, false, FlinkKafkaInternalProducer::new);
  }

  private static Committer<KafkaCommittable> checkingCommitter(String prefix) {
    Properties admin = new Properties();
    admin.setProperty("bootstrap.servers", kafka.bootstrapServers());
    return new RecoveredTransactionCommitter(connectorCommitter(prefix), admin);
  }

  private static Properties producerConfig() {
    Properties props = new Properties();
    props.setProperty("bootstrap.servers", kafka.bootstrapServers());
    props.setProperty("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    props.setProperty("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    props.setProperty("transaction.timeout.ms", "60000");
    return props;
  }

  /** The topic's committed values, in order (read_committed). */
  private static List<String> committedValues() {
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = TopicClients.committedReader(kafka.bootstrapServers(), null)) {
      consumer.subscribe(List.of(TOPIC));
      long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (System.nanoTime() < until) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          values.add(new String(record.value(), StandardCharsets.UTF_8));
        }
      }
    }
    return values;
  }

  /** A commit request that records how it ended. */
  static final class Request implements CommitRequest<KafkaCommittable> {
    final KafkaCommittable committable;
    String outcome = "committed";
    Throwable failure;

    Request(KafkaCommittable committable) {
      this.committable = committable;
    }

    @Override
    public KafkaCommittable getCommittable() {
      return committable;
    }

    @Override
    public int getNumberOfRetries() {
      return 0;
    }

    @Override
    public void signalFailedWithKnownReason(Throwable t) {
      outcome = "failedWithKnownReason";
      failure = t;
    }

    @Override
    public void signalFailedWithUnknownReason(Throwable t) {
      outcome = "failedWithUnknownReason";
      failure = t;
    }

    @Override
    public void retryLater() {
      outcome = "retryLater";
    }

    @Override
    public void updateAndRetryLater(KafkaCommittable committable) {
      outcome = "updateAndRetryLater";
    }

    @Override
    public void signalAlreadyCommitted() {
      outcome = "alreadyCommitted";
    }
  }
}
