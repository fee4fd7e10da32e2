package io.moestream.job.pipeline;

import io.moestream.operators.offsets.OffsetCommit;
import io.moestream.operators.offsets.OffsetCommitter;
import io.moestream.operators.offsets.SourcePartition;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the inference operator's offsets to the job's consumer group (the Kafka source's own commit
 * is off: it would commit the read position, past requests still in flight). Each offset carries
 * metadata {@code moestream:answered_since_ms=T}: the time before which no request at or after it
 * had been read, where a new job starts scanning the output topics ({@link KafkaAnsweredRequests}).
 * Commits run on a daemon thread; a newer commit replaces one not yet sent, and a failed one is
 * logged and superseded by the next checkpoint's.
 */
final class KafkaOffsetCommitter implements OffsetCommitter {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaOffsetCommitter.class);
  static final String METADATA_PREFIX = "moestream:answered_since_ms=";
  private static final long TIMEOUT_MS = 5_000;

  private final Admin admin;
  private final String groupId;
  private final ExecutorService sender;
  private final AtomicReference<Map<SourcePartition, OffsetCommit>> next = new AtomicReference<>();

  private KafkaOffsetCommitter(Map<String, String> clientConfig, String groupId) {
    Properties props = new Properties();
    props.putAll(clientConfig);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "moestream-offsets-" + groupId);
    this.admin = Admin.create(props);
    this.groupId = groupId;
    this.sender = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "moestream-offset-commits");
      t.setDaemon(true);
      return t;
    });
  }

  /** @param clientConfig bootstrap.servers and kafka.properties ({@code JobConfig.Kafka#clientConfig}) */
  static OffsetCommitter.Factory factory(Map<String, String> clientConfig, String groupId) {
    return () -> new KafkaOffsetCommitter(clientConfig, groupId);
  }

  @Override
  public void commit(Map<SourcePartition, OffsetCommit> commits) {
    if (next.getAndSet(Map.copyOf(commits)) == null) {
      sender.execute(this::send);
    }
  }

  private void send() {
    Map<SourcePartition, OffsetCommit> commits = next.getAndSet(null);
    if (commits == null) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    commits.forEach((p, c) -> offsets.put(new TopicPartition(p.topic(), p.partition()),
        new OffsetAndMetadata(c.offset(), METADATA_PREFIX + c.answeredSinceMs())));
    try {
      admin.alterConsumerGroupOffsets(groupId, offsets).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("could not commit offsets {} for group {} (the next checkpoint commits again): {}", offsets, groupId,
          e.toString());
    }
  }

  /** The time in a commit's metadata, or -1 when another client wrote it. */
  static long answeredSinceMs(OffsetAndMetadata committed) {
    String metadata = committed.metadata();
    if (metadata == null || !metadata.startsWith(METADATA_PREFIX)) {
      return -1;
    }
    try {
      return Long.parseLong(metadata.substring(METADATA_PREFIX.length()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  @Override
  public void close() {
    sender.shutdown();
    try {
      // the last checkpoint's commit (a finishing job's, say) is worth a moment
      sender.awaitTermination(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    admin.close(Duration.ofSeconds(2));
  }
}
