package io.moestream.job.pipeline;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.offsets.AnsweredRequests;
import io.moestream.operators.offsets.SourcePartition;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.Generation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which requests at or after the group's committed offsets an earlier job answered: the generations
 * (their {@code source}) and dead letters (their topic, partition and offset) written since the
 * time in the commits' metadata ({@link KafkaOffsetCommitter}), read back with read_committed. Output
 * records carry the time they were produced, so the scan starts at that time less a margin for
 * clocks that differ between TaskManagers.
 */
final class KafkaAnsweredRequests implements AnsweredRequests {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaAnsweredRequests.class);
  static final long CLOCK_SKEW_MARGIN_MS = 5 * 60_000;
  private static final long TIMEOUT_MS = 30_000;

  private final Map<String, String> clientConfig;
  private final String groupId;
  private final String inputTopic;
  private final List<String> answerTopics;

  private KafkaAnsweredRequests(Map<String, String> clientConfig, String groupId, String inputTopic,
      String outputTopic, String deadLetterTopic) {
    this.clientConfig = clientConfig;
    this.groupId = groupId;
    this.inputTopic = inputTopic;
    this.answerTopics = List.of(outputTopic, deadLetterTopic);
  }

  /** @param clientConfig bootstrap.servers and kafka.properties ({@code JobConfig.Kafka#clientConfig}) */
  static AnsweredRequests.Factory factory(Map<String, String> clientConfig, String groupId, String inputTopic,
      String outputTopic, String deadLetterTopic) {
    return () -> new KafkaAnsweredRequests(clientConfig, groupId, inputTopic, outputTopic, deadLetterTopic);
  }

  @Override
  public Map<SourcePartition, long[]> answeredSinceCommit() {
    try {
      return find();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      // without the answers, requests would be answered twice: better to fail and let the restart retry
      throw new IllegalStateException("cannot read back what an earlier job answered (group " + groupId + ", topics "
          + answerTopics + "): " + e, e);
    }
  }

  private Map<SourcePartition, long[]> find() throws Exception {
    Map<Integer, Long> committed = new HashMap<>();
    long since = Long.MAX_VALUE;
    Properties adminProps = new Properties();
    adminProps.putAll(clientConfig);
    try (Admin admin = Admin.create(adminProps)) {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(groupId)
          .partitionsToOffsetAndMetadata().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
      for (var e : offsets.entrySet()) {
        long answeredSince = e.getValue() == null ? -1 : KafkaOffsetCommitter.answeredSinceMs(e.getValue());
        if (e.getKey().topic().equals(inputTopic) && answeredSince >= 0) {
          committed.put(e.getKey().partition(), e.getValue().offset());
          since = Math.min(since, answeredSince);
        }
      }
    }
    if (committed.isEmpty()) {
      return Map.of();
    }
    Map<Integer, TreeSet<Long>> answered = new HashMap<>();
    long from = since - CLOCK_SKEW_MARGIN_MS;
    int unreadable = 0;
    for (String topic : answerTopics) {
      unreadable += scan(topic, from, committed, answered);
    }
    if (unreadable > 0) {
      LOG.warn("{} records of {} since {} could not be read as this release's Generation or DeadLetter (written by an "
          + "earlier release?): the requests they answer, if read again, are answered again", unreadable,
          answerTopics, from);
    }
    Map<SourcePartition, long[]> out = new HashMap<>();
    answered.forEach((p, set) -> out.put(new SourcePartition(inputTopic, p),
        set.stream().mapToLong(Long::longValue).toArray()));
    return out;
  }

  /** Reads {@code topic} from time {@code from} to its end; returns how many records did not decode. */
  private int scan(String topic, long from, Map<Integer, Long> committed, Map<Integer, TreeSet<Long>> answered) {
    boolean generations = topic.equals(answerTopics.get(0));
    AvroCodec<Generation> generationCodec = new AvroCodec<>(Generation.class);
    AvroCodec<DeadLetter> deadLetterCodec = new AvroCodec<>(DeadLetter.class);
    int unreadable = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = reader()) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofMillis(TIMEOUT_MS))) {
        partitions.add(new TopicPartition(topic, p.partition()));
      }
      consumer.assign(partitions);
      Map<TopicPartition, Long> times = new HashMap<>();
      partitions.forEach(tp -> times.put(tp, Math.max(0, from)));
      Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(times, Duration.ofMillis(TIMEOUT_MS));
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofMillis(TIMEOUT_MS));
      List<TopicPartition> toRead = new ArrayList<>();
      for (TopicPartition tp : partitions) {
        OffsetAndTimestamp start = starts.get(tp);
        if (start != null && start.offset() < ends.get(tp)) {
          consumer.seek(tp, start.offset());
          toRead.add(tp);
        }
      }
      consumer.assign(toRead);
      long deadline = System.currentTimeMillis() + TIMEOUT_MS;
      while (!toRead.isEmpty()) {
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("reading " + toRead + " back did not reach their end offsets " + ends
              + " in " + TIMEOUT_MS + " ms");
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          try {
            int partition;
            long offset;
            if (generations) {
              var source = generationCodec.decode(record.value()).getSource();
              if (source == null || !source.getTopic().equals(inputTopic)) {
                continue;
              }
              partition = source.getPartition();
              offset = source.getOffset();
            } else {
              DeadLetter d = deadLetterCodec.decode(record.value());
              if (!d.getTopic().equals(inputTopic)) {
                continue;
              }
              partition = d.getPartition();
              offset = d.getOffset();
            }
            Long from0 = committed.get(partition);
            if (from0 != null && offset >= from0) {
              answered.computeIfAbsent(partition, p -> new TreeSet<>()).add(offset);
            }
          } catch (IllegalArgumentException e) {
            unreadable++;
          }
        }
        toRead.removeIf(tp -> consumer.position(tp) >= ends.get(tp));
        consumer.assign(toRead);
      }
    }
    return unreadable;
  }

  private KafkaConsumer<byte[], byte[]> reader() {
    Properties p = new Properties();
    p.putAll(clientConfig);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "moestream-answered-" + groupId);
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
