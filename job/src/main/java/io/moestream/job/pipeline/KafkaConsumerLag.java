package io.moestream.job.pipeline;

import io.moestream.operators.metrics.ConsumerLag;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumer lag of the job's group on its input topic, asked of the broker every few seconds on a
 * daemon thread (never on the task thread): the sum over partitions of the last committed-visible
 * offset minus the group's committed offset (the earliest offset where the group has none). The
 * job commits the oldest unanswered offset at each checkpoint ({@link KafkaOffsetCommitter}), so
 * the figure includes the requests in flight and those read since the last checkpoint.
 */
public final class KafkaConsumerLag implements ConsumerLag {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaConsumerLag.class);
  static final long REFRESH_MS = 2_000;
  private static final long TIMEOUT_MS = 5_000;

  private final Admin admin;
  private final String groupId;
  private final String topic;
  private final ScheduledExecutorService refresher;
  private volatile long recordsBehind = -1;

  private KafkaConsumerLag(Map<String, String> clientConfig, String groupId, String topic) {
    Properties props = new Properties();
    props.putAll(clientConfig);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "moestream-lag-" + groupId);
    this.admin = Admin.create(props);
    this.groupId = groupId;
    this.topic = topic;
    this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "moestream-consumer-lag");
      t.setDaemon(true);
      return t;
    });
    refresher.scheduleWithFixedDelay(this::refresh, 0, REFRESH_MS, TimeUnit.MILLISECONDS);
  }

  /**
   * A recipe the operator opens in each subtask.
   *
   * @param clientConfig bootstrap.servers and kafka.properties ({@code JobConfig.Kafka#clientConfig})
   */
  public static ConsumerLag.Factory factory(Map<String, String> clientConfig, String groupId, String topic) {
    return () -> new KafkaConsumerLag(clientConfig, groupId, topic);
  }

  @Override
  public long recordsBehind() {
    return recordsBehind;
  }

  private void refresh() {
    try {
      recordsBehind = query();
    } catch (Exception e) {
      LOG.debug("consumer lag of group {} on {} unavailable: {}", groupId, topic, e.toString());
      recordsBehind = -1;
    }
  }

  long query() throws Exception {
    List<TopicPartitionInfo> partitions = admin.describeTopics(List.of(topic)).allTopicNames()
        .get(TIMEOUT_MS, TimeUnit.MILLISECONDS).get(topic).partitions();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
    for (TopicPartitionInfo p : partitions) {
      TopicPartition tp = new TopicPartition(topic, p.partition());
      latest.put(tp, OffsetSpec.latest());
      earliest.put(tp, OffsetSpec.earliest());
    }
    ListOffsetsOptions committedOnly = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
    var ends = admin.listOffsets(latest, committedOnly).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    var starts = admin.listOffsets(earliest, committedOnly).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
        .partitionsToOffsetAndMetadata().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    long behind = 0;
    for (TopicPartition tp : latest.keySet()) {
      OffsetAndMetadata position = committed.get(tp);
      long from = position != null ? position.offset() : starts.get(tp).offset();
      behind += Math.max(0, ends.get(tp).offset() - from);
    }
    return behind;
  }

  @Override
  public void close() {
    refresher.shutdownNow();
    admin.close(java.time.Duration.ofSeconds(2));
  }
}
