package io.moestream.job.cli;

import io.moestream.job.config.JobConfigLoader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * What the in-process benchmarks (bench-ramp, bench-soak) run the job on: a local Flink cluster whose
 * REST API answers on a free loopback port, and topics, group and transactional ids of their own.
 *
 * @param restUrl where the job's metrics, checkpoints and restarts are read, as the dashboard does
 */
record LocalBenchCluster(StreamExecutionEnvironment env, String restUrl) {

  /** A local cluster with {@code slots} task slots and its REST API on 127.0.0.1. */
  static LocalBenchCluster start(int slots) throws IOException {
    Configuration conf = new Configuration();
    conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
    int restPort = freePort();
    conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    conf.set(RestOptions.ADDRESS, "127.0.0.1");
    conf.set(RestOptions.PORT, restPort);
    // the REST API serves metrics from a store it refreshes every 10 s by default: once a second here
    conf.set(MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, Duration.ofSeconds(1));
    return new LocalBenchCluster(StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf),
        "http://127.0.0.1:" + restPort);
  }

  /** Topics {@code <name>.requests/.generations/.dead-letters}, group and transactional ids {@code name}, read from the start. */
  static JobConfigLoader ownTopics(JobConfigLoader loader, String name) {
    return loader
        .set("kafka.input_topic", name + ".requests").set("kafka.output_topic", name + ".generations")
        .set("kafka.dead_letter_topic", name + ".dead-letters").set("kafka.group_id", name)
        .set("kafka.transactional_id_prefix", name).set("kafka.starting_offsets", "earliest");
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
