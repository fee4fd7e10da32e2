package io.moestream.job.kafka;

import io.moestream.job.config.KafkaClientProperties;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.schemas.InferenceRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Plain Kafka clients for the job's topics: what produce, consume, demo and the tests use. */
public final class TopicClients {
  private TopicClients() {}

  public static KafkaProducer<byte[], byte[]> producer(String bootstrapServers) {
    return producer(bootstrapServers, 0, KafkaClientProperties.NONE);
  }

  public static KafkaProducer<byte[], byte[]> producer(String bootstrapServers, int maxRequestBytes) {
    return producer(bootstrapServers, maxRequestBytes, KafkaClientProperties.NONE);
  }

  /**
   * @param maxRequestBytes the producer's max.request.size (0: Kafka's default, 1 MiB, or what
   *     {@code properties} say)
   * @param properties the cluster's client properties (security, ...); they may change linger.ms too,
   *     but not what {@link KafkaClientProperties#COMMAND_OWNED} lists
   */
  public static KafkaProducer<byte[], byte[]> producer(String bootstrapServers, int maxRequestBytes,
      KafkaClientProperties properties) {
    Properties p = new Properties();
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    if (maxRequestBytes > 0) {
      p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(maxRequestBytes));
    }
    p.putAll(properties.with(bootstrapServers));
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    // One batch in flight per connection: with several, a first batch refused with NOT_LEADER_OR_FOLLOWER
    // (a partition still loading just after creation) let later batches be written past it, and its
    // retry then failed forever with OutOfOrderSequenceException (seen in the end-to-end suite).
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** A consumer that sees committed records only (what exactly-once output means to a reader). */
  public static KafkaConsumer<byte[], byte[]> committedReader(String bootstrapServers, String groupId) {
    return committedReader(bootstrapServers, groupId, KafkaClientProperties.NONE);
  }

  /** @param properties the cluster's client properties (security, ...) */
  public static KafkaConsumer<byte[], byte[]> committedReader(String bootstrapServers, String groupId,
      KafkaClientProperties properties) {
    Properties p = properties.with(bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId == null ? "moestream-reader-" + UUID.randomUUID() : groupId);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, groupId == null ? "false" : "true");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** A request as an Avro-encoded record keyed by its id. */
  public static ProducerRecord<byte[], byte[]> avroRecord(String topic, InferenceRequest request,
      AvroCodec<InferenceRequest> codec) {
    return new ProducerRecord<>(topic, request.getRequestId().getBytes(StandardCharsets.UTF_8), codec.encode(request));
  }

  /**
   * Creates topics (replication 1) and waits until every partition has a leader: a producer that
   * writes to a partition before then gets NOT_LEADER_OR_FOLLOWER, and an idempotent producer's
   * retry of its first batch can then loop on OUT_OF_ORDER_SEQUENCE_NUMBER.
   */
  public static void createTopics(String bootstrapServers, int partitions, String... names) throws Exception {
    createTopics(bootstrapServers, KafkaClientProperties.NONE, partitions, names);
  }

  /** {@link #createTopics(String, int, String...)} on a cluster that needs client properties (security, ...). */
  public static void createTopics(String bootstrapServers, KafkaClientProperties properties, int partitions,
      String... names) throws Exception {
    try (Admin admin = Admin.create(properties.with(bootstrapServers))) {
      List<NewTopic> topics = new ArrayList<>();
      for (String name : names) {
        topics.add(new NewTopic(name, partitions, (short) 1));
      }
      admin.createTopics(topics).all().get();
      long deadline = System.currentTimeMillis() + 30_000;
      while (!allLed(admin, List.of(names))) {
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("topics " + List.of(names) + " have partitions without a leader after 30 s");
        }
        Thread.sleep(50);
      }
    }
  }

  private static boolean allLed(Admin admin, List<String> names) throws Exception {
    try {
      for (TopicDescription topic : admin.describeTopics(names).allTopicNames().get().values()) {
        for (TopicPartitionInfo partition : topic.partitions()) {
          if (partition.leader() == null || partition.leader().isEmpty()) {
            return false;
          }
        }
      }
      return true;
    } catch (java.util.concurrent.ExecutionException e) {
      return false; // metadata not propagated yet
    }
  }
}
