package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.StreamingJob;
import io.moestream.schemas.InferenceRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process-level fault: {@code moestream-job.jar} on a real standalone session cluster (JobManager
 * and TaskManager processes, see {@link SessionCluster}), the TaskManager killed with SIGKILL while
 * requests are mid-generation, a new TaskManager started. The job restores from its last checkpoint
 * on the new TaskManager and every request is answered exactly once (read_committed), with what a
 * fault-free run gives. The restored Kafka sink re-commits the transactions of that checkpoint, which
 * the killed TaskManager had already committed; the logs must not call that data loss.
 */
class TaskManagerKillEndToEndTest {
  static final Path CLUSTER_HOME = SessionClusterEndToEndTest.CLUSTER_HOME.resolveSibling("session-cluster-tm-kill");
  static final int REQUESTS = 64;
  static final int EXTRA_NEW_TOKENS = 56; // added to each request's 4-8
  static final String NAME = "tmkill";
  static final String OUTPUT = NAME + ".generations";
  /**
   * Checkpoints far enough apart that the test can kill right after seeing one commit and before the
   * next checkpoint completes: the checkpoint the job restores from is then one whose transaction was
   * committed before the kill, the case that made the connector log "data loss". The interval alone does
   * not ensure it: a checkpoint slower than the interval under load is followed at once by the next, which
   * could complete between the commit the test saw and the kill; the minimum pause keeps the next one
   * from starting for 1.5 s after one completes, while the kill follows the commit within milliseconds.
   */
  static final int CHECKPOINT_INTERVAL_MS = 2_000;
  static final int CHECKPOINT_MIN_PAUSE_MS = 1_500;
  /** What the Kafka connector logs when a commit after recovery finds its producer fenced. */
  static final String FENCED = "because its producer is already fenced";
  /** What the job's sink logs instead when the coordinator reports the restored transaction committed. */
  static final String ALREADY_COMMITTED = "was already committed before the restart";

  @TempDir static Path tmp;
  static EmbeddedKafka kafka;
  static Path model;
  static SessionCluster cluster;
  static List<InferenceRequest> requests;
  static Map<String, Map.Entry<List<Integer>, String>> expected = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    Path jobJar = SessionClusterEndToEndTest.JOB_JAR;
    assertTrue(Files.isRegularFile(jobJar), jobJar.toAbsolutePath() + " is missing: the job module's package phase "
        + "builds it (mvn -pl tests -am verify)");
    kafka = EmbeddedKafka.start();
    model = DemoModel.write(DemoModel.spec(), tmp.resolve("model"));
    // long generations: the work must outlast the first checkpoint, however slow that one is, so
    // that requests are still mid-generation when the TaskManager dies (4-8 tokens each were all done
    // before a slow first checkpoint committed)
    requests = EndToEnd.goodRequests(REQUESTS).stream()
        .map(r -> InferenceRequest.newBuilder(r).setMaxNewTokens(EXTRA_NEW_TOKENS + r.getMaxNewTokens()).build()).toList();
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      expected.putAll(reference.generateAll(requests));
    }
    SessionClusterEndToEndTest.deleteTree(CLUSTER_HOME);
    // a dead TaskManager's heartbeat RPCs fail at once: two failed ones (1 s apart) mark it lost
    cluster = SessionCluster.start(CLUSTER_HOME, SessionClusterEndToEndTest.LOGGING_LIB, Duration.ofMinutes(3),
        "heartbeat.interval: 1000", "heartbeat.timeout: 20000");
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void aTaskManagerKilledMidGenerationChangesNoAnswer() throws Exception {
    SessionClusterRest rest = cluster.rest();
    String jobId = null;
    try {
      kafka.createTopics(2, NAME + ".requests", OUTPUT, NAME + ".dead-letters");
      EndToEnd.produce(kafka.bootstrapServers(), NAME + ".requests", SessionClusterEndToEndTest.values(requests));
      String jarId = rest.uploadJar(SessionClusterEndToEndTest.JOB_JAR);
      jobId = rest.runJar(jarId, StreamingJob.class.getName(), SessionClusterEndToEndTest.programArguments(NAME, model,
          kafka.bootstrapServers(), false, List.of("model.kv_cache_mb=64", "kafka.transactional_id_prefix=" + NAME,
              "flink.checkpoint_interval_ms=" + CHECKPOINT_INTERVAL_MS,
              "flink.checkpoint_min_pause_ms=" + CHECKPOINT_MIN_PAUSE_MS, "flink.restart_attempts=20",
              "flink.restart_delay_ms=1000", "batching.max_in_flight=16",
              // the answers are compared with the full model's: the load must not lower the experts
              "experts.policy=full")), 1);
      rest.awaitRunning(jobId, Duration.ofMinutes(3));

      int committedBeforeKill = awaitACommit(Duration.ofMinutes(3));
      cluster.killTaskManager();
      assertTrue(committedBeforeKill < REQUESTS, "all " + REQUESTS + " answered before the kill: nothing was in flight");
      cluster.startTaskManager("taskmanager-2");

      SessionClusterEndToEndTest.checkGenerations(kafka.bootstrapServers(), OUTPUT, requests, expected);
      JsonNode restored = rest.get("/jobs/" + jobId + "/checkpoints").path("latest").path("restored");
      assertFalse(restored.isMissingNode() || restored.isNull(), "the job did not restore from a checkpoint");

      List<String> fenced = logLines(FENCED);
      assertTrue(fenced.isEmpty(), "an already committed transaction reported as fenced (data loss):\n"
          + String.join("\n", fenced));
      // the restored checkpoint's transaction was committed before the kill: the sink says so
      List<String> committed = logLines(ALREADY_COMMITTED);
      assertTrue(committed.stream().allMatch(l -> l.startsWith("taskmanager-2.log: ") && l.contains(" INFO ")),
          String.join("\n", committed));
      assertFalse(committed.isEmpty(), "no restored transaction found committed before the kill");
      rest.cancel(jobId, Duration.ofMinutes(1));
      jobId = null;
    } catch (Exception | AssertionError e) {
      throw new AssertionError(e.getMessage() + (jobId == null ? "" : "\njob " + jobId + " exceptions: "
          + rest.exceptions(jobId)) + cluster.logTails(), e);
    }
  }

  /** The lines of the process logs that contain {@code text}, each after its file's name. */
  private static List<String> logLines(String text) throws Exception {
    List<String> lines = new ArrayList<>();
    for (Path log : cluster.processLogs()) {
      Files.readAllLines(log).stream().filter(l -> l.contains(text)).forEach(l -> lines.add(log.getFileName() + ": " + l));
    }
    return lines;
  }

  /**
   * Reads the output with read_committed until a transaction's generations appear (a checkpoint
   * completed and the sink committed it); returns how many generations are committed by then.
   */
  private static int awaitACommit(Duration timeout) {
    try (KafkaConsumer<byte[], byte[]> consumer = TopicClients.committedReader(kafka.bootstrapServers(), null)) {
      // assigned, not subscribed: a group join takes seconds, and the kill must come soon after the commit
      var partitions = consumer.partitionsFor(OUTPUT).stream()
          .map(p -> new org.apache.kafka.common.TopicPartition(OUTPUT, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        int seen = consumer.poll(Duration.ofMillis(50)).count();
        if (seen > 0) {
          return seen;
        }
      }
    }
    throw new AssertionError("no generation committed within " + timeout);
  }
}
