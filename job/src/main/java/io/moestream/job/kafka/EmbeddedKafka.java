package io.moestream.job.kafka;

import java.io.PrintStream;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node Kafka broker (KRaft, combined broker + controller) inside this JVM, for
 * {@code ./moestream demo} and the end-to-end suites. Internal topics have replication factor 1,
 * without which consumer groups and transactions never find their coordinator.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private final KafkaClusterTestKit cluster;

  private EmbeddedKafka(KafkaClusterTestKit cluster) {
    this.cluster = cluster;
  }

  /** Formats and starts a broker on free local ports; ready when this returns (a few seconds). */
  public static EmbeddedKafka start() throws Exception {
    Map<String, String> props = Map.of(
        "offsets.topic.replication.factor", "1",
        "offsets.topic.num.partitions", "1",
        "transaction.state.log.replication.factor", "1",
        "transaction.state.log.min.isr", "1",
        "transaction.state.log.num.partitions", "1",
        "group.initial.rebalance.delay.ms", "0",
        "auto.create.topics.enable", "false",
        // a real topic may hold values over the job's limits.max_record_bytes; the suites send some (issue 13)
        "message.max.bytes", Integer.toString(4 << 20));
    KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
        .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1)
        .setPerServerProperties(Map.of(0, props)).build()).build();
    PrintStream stdout = System.out;
    try {
      System.setOut(System.err); // the test kit prints its formatting notice on stdout, which belongs to the caller's output
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
    } catch (Exception e) {
      cluster.close();
      throw e;
    } finally {
      System.setOut(stdout);
    }
    return new EmbeddedKafka(cluster);
  }

  public String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  /** Creates topics (replication 1) and waits until every partition has a leader ({@link TopicClients#createTopics}). */
  public void createTopics(int partitions, String... names) throws Exception {
    TopicClients.createTopics(bootstrapServers(), partitions, names);
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }
}
