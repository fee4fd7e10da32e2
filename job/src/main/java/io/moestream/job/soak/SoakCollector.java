package io.moestream.job.soak;

import io.moestream.job.kafka.TopicClients;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.FinishReason;
import io.moestream.schemas.Generation;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads the job's output and dead-letter topics with read_committed (what a downstream reader sees)
 * from the start of the soak, on its own thread, and counts: generations per request id, dead
 * letters per input partition and offset, finish reasons. The counts are what the verdict checks,
 * so every record read is counted, duplicates included.
 */
final class SoakCollector implements AutoCloseable {
  /** Finish reasons as the report shows them: an ERROR split into deadline passed and other. */
  static final List<String> OUTCOMES = List.of("STOP", "LENGTH", "ERROR deadline", "ERROR other");

  private final String outputTopic;
  private final String deadLetterTopic;
  private final String inputTopic;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final AvroCodec<Generation> generations = new AvroCodec<>(Generation.class);
  private final AvroCodec<DeadLetter> deadLetters = new AvroCodec<>(DeadLetter.class);
  final Map<String, Integer> generationsById = new ConcurrentHashMap<>();
  /** Dead letters per input {@code partition:offset}. */
  final Map<String, Integer> deadLettersBySource = new ConcurrentHashMap<>();
  final Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
  final AtomicLong records = new AtomicLong();
  final AtomicLong unreadable = new AtomicLong();
  /** Completion tokens of the generations read so far (throughput as downstream sees it). */
  final AtomicLong completionTokens = new AtomicLong();
  private final Thread thread;
  private volatile boolean running = true;
  private volatile boolean endWanted;
  private volatile boolean atEnd;
  private volatile Exception failure;

  SoakCollector(io.moestream.job.config.JobConfig.Kafka kafka, String inputTopic, String outputTopic,
      String deadLetterTopic) {
    this.inputTopic = inputTopic;
    this.outputTopic = outputTopic;
    this.deadLetterTopic = deadLetterTopic;
    OUTCOMES.forEach(o -> outcomes.put(o, new AtomicLong()));
    consumer = TopicClients.committedReader(kafka.bootstrapServers(), null, kafka.properties());
    thread = new Thread(this::loop, "soak-collector");
    thread.setDaemon(true);
    thread.start();
  }

  static String source(int partition, long offset) {
    return partition + ":" + offset;
  }

  private void loop() {
    try {
      consumer.subscribe(List.of(outputTopic, deadLetterTopic));
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          count(record);
        }
        if (endWanted && !atEnd) {
          atEnd = reachedEnd();
        }
      }
    } catch (Exception e) {
      failure = e;
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  private void count(ConsumerRecord<byte[], byte[]> record) {
    records.incrementAndGet();
    try {
      if (record.topic().equals(outputTopic)) {
        Generation g = generations.decode(record.value());
        generationsById.merge(g.getRequestId(), 1, Integer::sum);
        completionTokens.addAndGet(g.getCompletionTokens());
        String outcome = g.getFinishReason() != FinishReason.ERROR ? g.getFinishReason().name()
            : g.getError() != null && g.getError().startsWith("deadline passed") ? "ERROR deadline" : "ERROR other";
        outcomes.get(outcome).incrementAndGet();
      } else {
        DeadLetter d = deadLetters.decode(record.value());
        if (d.getTopic().equals(inputTopic)) {
          deadLettersBySource.merge(source(d.getPartition(), d.getOffset()), 1, Integer::sum);
        }
      }
    } catch (IllegalArgumentException e) {
      unreadable.incrementAndGet(); // counted: the verdict fails on any
    }
  }

  /** Whether this reader's position is at the committed end of every partition it reads. */
  private boolean reachedEnd() {
    Set<TopicPartition> assigned = consumer.assignment();
    if (assigned.isEmpty()) {
      return false;
    }
    // with read_committed, end offsets are the last stable offsets: what has been committed so far
    Map<TopicPartition, Long> ends = consumer.endOffsets(assigned, Duration.ofSeconds(10));
    for (TopicPartition tp : assigned) {
      if (consumer.position(tp, Duration.ofSeconds(10)) < ends.get(tp)) {
        return false;
      }
    }
    return true;
  }

  /** Waits until everything committed to the two topics by now has been read (at most {@code timeout}). */
  boolean awaitEnd(Duration timeout) throws InterruptedException {
    atEnd = false;
    endWanted = true;
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (!atEnd && failure == null && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    endWanted = false;
    check();
    return atEnd;
  }

  /** Throws what ended the reading thread, if anything did. */
  void check() {
    if (failure != null) {
      throw new IllegalStateException("reading the output and dead-letter topics failed", failure);
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(10_000);
  }
}
