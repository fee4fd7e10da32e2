package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard user's everyday moves, mid-generation: cancel the job (no savepoint) and submit it
 * again; stop it with a savepoint and start it from there with another parallelism. Either way every
 * request is answered exactly once (read_committed), as the engine alone answers it, and every bad
 * record is dead-lettered once.
 */
class ResubmitEndToEndTest {
  static final int REQUESTS = 48;
  static final int CONTEXT_LENGTH = 512;

  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path tmp;
  static EmbeddedKafka kafka;
  static Path model;
  static List<InferenceRequest> requests = new ArrayList<>();
  static Map<String, Map.Entry<List<Integer>, String>> expected = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.start();
    model = DemoModel.write(DemoModel.spec().withMaxPositionEmbeddings(CONTEXT_LENGTH), tmp.resolve("model"));
    for (int i = 0; i < REQUESTS; i++) {
      // the first answers come soon; the later generations are long enough that a cancel, or a stop (whose
      // savepoint barrier comes some time after the source stops reading), finds them mid-generation
      int maxNewTokens = i < 16 ? 24 + i % 9 : 160 + i % 40;
      requests.add(InferenceRequest.newBuilder().setRequestId("resubmit-" + i).setMaxNewTokens(maxNewTokens)
          .setPrompt("Request " + i + " about the sea and the experts.")
          .setSampling(i % 2 == 0 ? Sampling.newBuilder().build()
              : Sampling.newBuilder().setTemperature(0.8f).setTopP(0.95f).setSeed(7 + i).build())
          .build());
    }
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      expected.putAll(reference.generateAll(requests));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void aJobCancelledMidGenerationAndSubmittedAgainAnswersEveryRequestOnce() throws Exception {
    JobConfig config = config("resubmit", 1);
    List<BadRecords.Bad> bad = produceAll(config);
    JobClient first = submit(config, null);
    try {
      awaitAnswers(config, 12);
    } finally {
      JobClients.cancelAndAwait(first, Duration.ofMinutes(1));
    }
    int answeredByFirst = countCommitted(config.kafka().outputTopic());
    assertTrue(answeredByFirst < REQUESTS, "the first job answered everything before the cancel: nothing tested");

    JobClient second = submit(config, null);
    long skipped;
    try {
      checkAnswers(config, bad);
      skipped = awaitMetric(second, MetricNames.REQUESTS_ALREADY_ANSWERED);
    } finally {
      JobClients.cancelAndAwait(second, Duration.ofMinutes(1));
    }
    assertTrue(skipped > 0, "the second job read nothing the first had answered: the committed offsets were the "
        + "read position, so the in-flight requests were not tested (" + skipped + ")");
  }

  @Test
  void aJobStoppedWithASavepointMidGenerationRestartsWithAnotherParallelismAndAnswersEveryRequestOnce()
      throws Exception {
    JobConfig config = config("upgrade", 1);
    List<BadRecords.Bad> bad = produceAll(config);
    JobClient first = submit(config, null);
    String savepoint;
    try {
      awaitAnswers(config, 20);
      savepoint = first.stopWithSavepoint(false, tmp.resolve("savepoints").toUri().toString(),
          SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
    } finally {
      JobClients.cancelAndAwait(first, Duration.ofMinutes(1));
    }
    assertTrue(countCommitted(config.kafka().outputTopic()) < REQUESTS, "nothing was in flight at the savepoint");

    JobClient second = submit(config("upgrade", 2), savepoint);
    long replayed;
    try {
      checkAnswers(config, bad);
      replayed = awaitMetric(second, MetricNames.REPLAYED_REQUESTS);
      JsonNode restored = new FlinkRest(FLINK).get("/jobs/" + second.getJobID() + "/checkpoints")
          .path("latest").path("restored");
      assertEquals(savepoint, restored.path("external_path").asText(), "restored from: " + restored);
    } finally {
      JobClients.cancelAndAwait(second, Duration.ofMinutes(1));
    }
    assertTrue(replayed > 0, "no request was in flight in the savepoint (" + replayed + ")");
  }

  private static JobConfig config(String name, int parallelism) {
    return EndToEnd.config(name, model, kafka.bootstrapServers(), Map.of(
        "kafka.starting_offsets", "committed", "flink.parallelism", parallelism,
        "batching.max_in_flight", 8, "batching.max_batch_size", 4));
  }

  /** The requests with a few bad records among the first ones (so that some are read again). */
  private static List<BadRecords.Bad> produceAll(JobConfig config) throws Exception {
    kafka.createTopics(2, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic());
    List<byte[]> values = new ArrayList<>();
    requests.forEach(r -> values.add(EndToEnd.REQUESTS.encode(r)));
    List<BadRecords.Bad> bad = BadRecords.all(CONTEXT_LENGTH).subList(0, 4);
    for (int i = 0; i < bad.size(); i++) {
      values.add(6 + 5 * i, bad.get(i).value());
    }
    EndToEnd.produce(kafka.bootstrapServers(), config.kafka().inputTopic(), values);
    return bad;
  }

  private static JobClient submit(JobConfig config, String savepoint) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    InferencePipeline.define(env, config);
    StreamGraph graph = env.getStreamGraph();
    graph.setJobName(config.flink().jobName());
    if (savepoint != null) { // what the dashboard's "Savepoint Path" field sets
      graph.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(savepoint, false));
    }
    return env.executeAsync(graph);
  }

  /** Waits until {@code n} generations are visible to read_committed readers. */
  private static void awaitAnswers(JobConfig config, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (countCommitted(config.kafka().outputTopic()) < n) {
      assertTrue(System.nanoTime() < deadline, "fewer than " + n + " generations in 3 minutes");
      Thread.sleep(100);
    }
  }

  private static int countCommitted(String topic) {
    int count = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = TopicClients.committedReader(kafka.bootstrapServers(), null)) {
      var partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<org.apache.kafka.common.TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp)) && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> ignored : consumer.poll(Duration.ofMillis(100))) {
          count++;
        }
      }
    }
    return count;
  }

  private static void checkAnswers(JobConfig config, List<BadRecords.Bad> bad) {
    List<Generation> out = EndToEnd.readCommitted(kafka.bootstrapServers(), config.kafka().outputTopic(),
        EndToEnd.GENERATIONS::decode, REQUESTS, Duration.ofMinutes(4), Duration.ofSeconds(4));
    Map<String, Generation> byId = new HashMap<>();
    for (Generation g : out) {
      assertTrue(byId.put(g.getRequestId(), g) == null, "answered twice: " + g.getRequestId());
    }
    assertEquals(REQUESTS, out.size(), "generations read with read_committed");
    for (InferenceRequest r : requests) {
      Generation g = byId.get(r.getRequestId());
      assertEquals(expected.get(r.getRequestId()).getKey(), g.getTokenIds(), r.getRequestId() + " token ids");
      assertEquals(expected.get(r.getRequestId()).getValue(), g.getText(), r.getRequestId() + " text");
      assertEquals(config.kafka().inputTopic(), g.getSource().getTopic(), r.getRequestId() + " source");
    }
    List<DeadLetter> deadLetters = EndToEnd.readCommitted(kafka.bootstrapServers(), config.kafka().deadLetterTopic(),
        EndToEnd.DEAD_LETTERS::decode, bad.size(), Duration.ofSeconds(30), Duration.ofSeconds(1));
    assertEquals(bad.size(), deadLetters.size(), "each bad record dead-lettered once: " + deadLetters);
  }

  private static long awaitMetric(JobClient job, String metric) throws Exception {
    FlinkRest rest = new FlinkRest(FLINK);
    long value = rest.operatorMetric(job.getJobID(), metric);
    long until = System.currentTimeMillis() + 20_000; // the REST metric store refreshes every second
    while (value <= 0 && System.currentTimeMillis() < until) {
      Thread.sleep(500);
      value = rest.operatorMetric(job.getJobID(), metric);
    }
    return value;
  }
}
