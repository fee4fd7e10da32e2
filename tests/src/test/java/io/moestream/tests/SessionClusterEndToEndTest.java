package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.StreamingJob;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.schemas.FinishReason;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code moestream-job.jar} on a real Flink standalone session cluster (JobManager and TaskManager
 * processes on a lib/ of Flink's own jars, nothing of moestream), submitted through the REST calls
 * of the dashboard's Submit New Job: upload, run with program arguments, cancel, and run again on
 * the same cluster. Requests go through a real Kafka broker; the generations are the ones
 * {@code ./moestream generate} gives, each exactly once across the resubmission. The compose stack's
 * one-shot scripts (topics, submit) run against the same broker and cluster.
 */
class SessionClusterEndToEndTest {
  static final Path JOB_JAR = Path.of(System.getProperty("moestream.job.jar", "../job/target/moestream-job.jar"));
  static final Path CLUSTER_HOME = Path.of(System.getProperty("moestream.session.dir", "target/session-cluster"));
  static final Path LOGGING_LIB = Path.of(System.getProperty("moestream.session.lib", "target/session-cluster-lib"));
  static final Path COMPOSE = Path.of("../docker-compose");
  static final int FIRST = 24;
  static final int SECOND = 16;
  static final String NAME = "session";
  static final String INPUT = NAME + ".requests";
  static final String OUTPUT = NAME + ".generations";

  @TempDir static Path tmp;
  static EmbeddedKafka kafka;
  static Path model;
  static SessionCluster cluster;
  static List<InferenceRequest> requests;
  static Map<String, Map.Entry<List<Integer>, String>> expected = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    assertTrue(Files.isRegularFile(JOB_JAR), JOB_JAR.toAbsolutePath() + " is missing: the job module's package "
        + "phase builds it (mvn -pl tests -am verify)");
    kafka = EmbeddedKafka.start();
    model = DemoModel.write(DemoModel.spec(), tmp.resolve("model"));
    requests = EndToEnd.goodRequests(FIRST + SECOND);
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      expected.putAll(reference.generateAll(requests));
    }
    deleteTree(CLUSTER_HOME);
    cluster = SessionCluster.start(CLUSTER_HOME, LOGGING_LIB, Duration.ofMinutes(3));
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
  void uploadedFromTheDashboardTheJobRunsAndRunsAgainAfterACancel() throws Exception {
    SessionClusterRest rest = cluster.rest();
    String jobId = null;
    try {
      assertTrue(rest.dashboard().contains("<html"), "the dashboard page");
      kafka.createTopics(2, INPUT, OUTPUT, NAME + ".dead-letters");
      String jarId = rest.uploadJar(JOB_JAR);
      List<String> entries = rest.entryClasses(jarId);
      assertEquals(List.of(StreamingJob.class.getName()), entries, "the entry class the dashboard offers");

      List<String> plan = rest.plan(jarId, entries.get(0), programArguments(false));
      assertTrue(plan.stream().anyMatch(node -> node.contains("MoE inference")), "Show Plan: " + plan);

      // a bad field fails the submission with the field named; the JobManager lives on
      IllegalStateException refused = assertThrows(IllegalStateException.class, () -> rest.runJar(jarId,
          entries.get(0), List.of("--model", model.toString(), "--max-in-flight", "0"), 1));
      assertTrue(refused.getMessage().contains("batching.max_in_flight"), refused.getMessage());
      rest.awaitReady(Duration.ofSeconds(30), 1, cluster::logTails);

      EndToEnd.produce(kafka.bootstrapServers(), INPUT, values(requests.subList(0, FIRST)));
      jobId = rest.runJar(jarId, entries.get(0), programArguments(false), 1);
      rest.awaitRunning(jobId, Duration.ofMinutes(3));
      checkGenerations(requests.subList(0, FIRST));
      String metrics = scrapePrometheus();
      assertTrue(metrics.contains(MetricNames.GENERATIONS), "no " + MetricNames.GENERATIONS + " on the Prometheus "
          + "ports " + cluster.prometheusPorts);

      // offsets are committed when a checkpoint completes: once they cover the input, a cancel loses nothing
      awaitCommittedOffsets(FIRST, Duration.ofMinutes(1));
      rest.cancel(jobId, Duration.ofMinutes(1));

      // the same uploaded jar, submitted again: new classloaders on the JobManager and the TaskManager
      EndToEnd.produce(kafka.bootstrapServers(), INPUT, values(requests.subList(FIRST, FIRST + SECOND)));
      String firstJob = jobId;
      jobId = rest.runJar(jarId, entries.get(0), programArguments(true), 1);
      assertNotEquals(firstJob, jobId);
      rest.awaitRunning(jobId, Duration.ofMinutes(3));
      checkGenerations(requests); // each request of both submissions exactly once
      rest.cancel(jobId, Duration.ofMinutes(1));
      jobId = null;
    } catch (Exception | AssertionError e) {
      throw new AssertionError(e.getMessage() + (jobId == null ? "" : "\njob " + jobId + " exceptions: "
          + rest.exceptions(jobId)) + cluster.logTails(), e);
    }
  }

  /**
   * The compose stack's one-shot services, run as the scripts they are against this broker and
   * cluster (no Docker here): {@code kafka/create-topics.sh} with Kafka's own topic tool creates the
   * three topics and changes nothing the second time; {@code flink/submit.sh} with Flink's own
   * {@code flink} client submits the job once (backend {@code auto}, which falls back to the CPU), a
   * second run finds it running and submits nothing, and the job answers requests.
   */
  @Test
  void theComposeStacksOneShotScriptsCreateTheTopicsAndSubmitTheJobOnce() throws Exception {
    SessionClusterRest rest = cluster.rest();
    Path bin = tmp.resolve("bin");
    cluster.writeFlinkCli(bin);
    writeKafkaTopicsCli(bin);
    List<String> topics = List.of("compose.requests", "compose.generations", "compose.dead-letters");
    Map<String, String> env = new HashMap<>(Map.of(
        "PATH", bin + ":" + System.getenv("PATH"),
        "KAFKA_BIN", bin.toString(),
        "KAFKA_BOOTSTRAP", kafka.bootstrapServers(),
        "MOESTREAM_PARTITIONS", "2",
        "MOESTREAM_INPUT_TOPIC", topics.get(0),
        "MOESTREAM_OUTPUT_TOPIC", topics.get(1),
        "MOESTREAM_DEAD_LETTER_TOPIC", topics.get(2)));
    env.putAll(Map.of(
        "MOESTREAM_JOB_JAR", JOB_JAR.toAbsolutePath().toString(),
        "MOESTREAM_MODELS_MOUNT", model.getParent().toString(),
        "MOESTREAM_MODEL", model.getFileName().toString(),
        "FLINK_REST_ADDRESS", "127.0.0.1:" + cluster.restPort,
        "MOESTREAM_OVERRIDES", "kafka.group_id=compose kafka.transactional_id_prefix=compose model.threads=1 "
            + "model.kv_cache_mb=64 flink.checkpoint_interval_ms=500 flink.restart_attempts=0"));
    String jobId = null;
    try {
      ComposeScript created = ComposeScript.run(COMPOSE.resolve("kafka/create-topics.sh"), env);
      assertEquals(0, created.exit(), created.output());
      assertTrue(created.output().contains("topics: ready"), created.output());
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
        admin.describeTopics(topics).allTopicNames().get().forEach((name, description) ->
            assertEquals(2, description.partitions().size(), name + " partitions"));
      }
      ComposeScript again = ComposeScript.run(COMPOSE.resolve("kafka/create-topics.sh"), env);
      assertEquals(0, again.exit(), "existing topics are left as they are: " + again.output());

      ComposeScript submitted = ComposeScript.run(COMPOSE.resolve("flink/submit.sh"), env);
      assertEquals(0, submitted.exit(), submitted.output());
      List<String> running = runningJobs(rest, "moestream");
      assertEquals(1, running.size(), "jobs named moestream after submit.sh: " + running + "\n" + submitted.output());
      jobId = running.get(0);
      rest.awaitRunning(jobId, Duration.ofMinutes(3));
      ComposeScript resubmitted = ComposeScript.run(COMPOSE.resolve("flink/submit.sh"), env);
      assertEquals(0, resubmitted.exit(), resubmitted.output());
      assertTrue(resubmitted.output().contains("already running; nothing to do"), resubmitted.output());
      assertEquals(List.of(jobId), runningJobs(rest, "moestream"), "a second submit.sh submits nothing");

      List<InferenceRequest> sent = requests.subList(0, 8);
      EndToEnd.produce(kafka.bootstrapServers(), topics.get(0), values(sent));
      List<Generation> out = EndToEnd.readCommitted(kafka.bootstrapServers(), topics.get(1),
          EndToEnd.GENERATIONS::decode, sent.size(), Duration.ofMinutes(3), Duration.ofSeconds(2));
      assertEquals(sent.size(), out.size());
      for (Generation g : out) {
        assertEquals(expected.get(g.getRequestId()).getKey(), g.getTokenIds(), g.getRequestId());
      }
      rest.cancel(jobId, Duration.ofMinutes(1));
      jobId = null;

      env.put("MOESTREAM_MODEL", "no-such-model");
      ComposeScript noModel = ComposeScript.run(COMPOSE.resolve("flink/submit.sh"), env);
      assertEquals(1, noModel.exit(), noModel.output());
      assertTrue(noModel.output().contains("no model at " + model.getParent().resolve("no-such-model")), noModel.output());
    } catch (Exception | AssertionError e) {
      throw new AssertionError(e.getMessage() + (jobId == null ? "" : "\njob " + jobId + " exceptions: "
          + rest.exceptions(jobId)) + cluster.logTails(), e);
    } finally {
      if (jobId != null) {
        rest.cancel(jobId, Duration.ofMinutes(1));
      }
    }
  }

  /**
   * {@code ./moestream run --jobmanager}: the command defines the job in this JVM and ships
   * moestream-job.jar with it, and the job answers on the session cluster. This JVM runs the command
   * from classes folders, so it names the job jar (--job-jar); from moestream.jar the jar next to it
   * is the default (RunCommandJobJarTest).
   */
  @Test
  void runWithJobmanagerShipsTheJobJarAndTheJobAnswers() throws Exception {
    String name = "run-command";
    SessionClusterRest rest = cluster.rest();
    String jobId = null;
    try {
      kafka.createTopics(2, name + ".requests", name + ".generations", name + ".dead-letters");
      List<String> args = new ArrayList<>(List.of("run", "--jobmanager", "127.0.0.1:" + cluster.restPort,
          "--job-jar", JOB_JAR.toString(), "--detached"));
      args.addAll(programArguments(name, model, kafka.bootstrapServers(), false, List.of("model.kv_cache_mb=64",
          "kafka.transactional_id_prefix=" + name, "kafka.starting_offsets=earliest", "flink.job_name=" + name,
          "flink.parallelism=1", "flink.checkpoint_interval_ms=500", "flink.restart_attempts=0")));
      jobId = EndToEnd.command(0, args).strip();
      assertEquals(List.of(jobId), runningJobs(rest, name), "the job id run printed");
      rest.awaitRunning(jobId, Duration.ofMinutes(3));
      List<InferenceRequest> sent = requests.subList(0, 8);
      EndToEnd.produce(kafka.bootstrapServers(), name + ".requests", values(sent));
      checkGenerations(kafka.bootstrapServers(), name + ".generations", sent, expected);
    } catch (Exception | AssertionError e) {
      throw new AssertionError(e.getMessage() + (jobId == null ? "" : "\njob " + jobId + " exceptions: "
          + rest.exceptions(jobId)) + cluster.logTails(), e);
    } finally {
      if (jobId != null) {
        rest.cancel(jobId, Duration.ofMinutes(1));
      }
    }
  }

  @Test
  void theJobJarHoldsTheJobAndTheKafkaConnectorButNothingTheClusterProvides() throws IOException {
    try (JarFile jar = new JarFile(JOB_JAR.toFile())) {
      assertEquals(StreamingJob.class.getName(), jar.getManifest().getMainAttributes().getValue("Main-Class"));
      Set<String> names = jar.stream().map(JarEntry::getName).collect(Collectors.toSet());
      for (String bundled : List.of("io/moestream/job/pipeline/StreamingJob.class",
          "io/moestream/engine/generate/Engine.class", "io/moestream/operators/inference/MoeInferenceOperator.class",
          "org/apache/flink/connector/kafka/source/KafkaSource.class",
          "org/apache/kafka/clients/consumer/KafkaConsumer.class", "picocli/CommandLine.class")) {
        assertTrue(names.contains(bundled), bundled + " is not in " + JOB_JAR);
      }
      for (String provided : List.of("org/apache/flink/runtime/", "org/apache/flink/streaming/api/",
          "org/apache/flink/api/common/", "org/apache/flink/connector/base/", "com/esotericsoftware/kryo/",
          "jcuda/", "org/slf4j/", "org/apache/logging/", "scala/", "kafka/server/", "org/apache/kafka/common/test/",
          // lz4 comes from the cluster's Flink (at.yawk.lz4): a copy here would be loaded ahead of it
          "net/jpountz/", "org/junit/")) {
        assertFalse(names.stream().anyMatch(n -> n.startsWith(provided)), provided + "* is in " + JOB_JAR);
      }
      assertFalse(names.stream().anyMatch(n -> n.toLowerCase(java.util.Locale.ROOT).contains("jcuda")),
          "JCuda's natives are in " + JOB_JAR);
    }
  }

  /**
   * What one would type in the dashboard's "Program Arguments": the options of {@code ./moestream
   * run}; with {@code bareOverrides}, the overrides in the entry class's earlier form
   * ({@code section.field=value} without {@code --set}), which scripts still pass.
   */
  static List<String> programArguments(boolean bareOverrides) {
    return programArguments(NAME, model, kafka.bootstrapServers(), bareOverrides, List.of("model.kv_cache_mb=64",
        "kafka.transactional_id_prefix=" + NAME, "kafka.starting_offsets=committed", "flink.checkpoint_interval_ms=500",
        "flink.restart_attempts=0", "experts.policy=full"));
  }

  /** The options of {@code ./moestream run} for a job of topics, group and transactional ids named {@code name}. */
  static List<String> programArguments(String name, Path model, String bootstrap, boolean bareOverrides,
      List<String> overrides) {
    List<String> args = new ArrayList<>(List.of(
        "--model", model.toString(),
        "--bootstrap-servers", bootstrap,
        "--group-id", name,
        "--input-topic", name + ".requests",
        "--output-topic", name + ".generations",
        "--dead-letter-topic", name + ".dead-letters",
        "--threads", "1",
        "--max-in-flight", "32",
        "--max-batch-size", "8"));
    for (String override : overrides) {
      if (!bareOverrides) {
        args.add("--set");
      }
      args.add(override);
    }
    return args;
  }

  /** Every request of {@code sent}, and nothing else, answered once with what {@code generate} gives. */
  private static void checkGenerations(List<InferenceRequest> sent) {
    checkGenerations(kafka.bootstrapServers(), OUTPUT, sent, expected);
  }

  /**
   * Every request of {@code sent}, and nothing else, answered once on {@code topic} (read_committed)
   * with the reference's token ids and text.
   */
  static void checkGenerations(String bootstrap, String topic, List<InferenceRequest> sent,
      Map<String, Map.Entry<List<Integer>, String>> expected) {
    List<Generation> out = EndToEnd.readCommitted(bootstrap, topic, EndToEnd.GENERATIONS::decode,
        sent.size(), Duration.ofMinutes(4), Duration.ofSeconds(3));
    Map<String, Generation> byId = new HashMap<>();
    for (Generation g : out) {
      assertNull(byId.put(g.getRequestId(), g), "duplicate generation for " + g.getRequestId());
    }
    assertEquals(sent.size(), out.size(), "generations read with read_committed: " + byId.keySet());
    for (InferenceRequest r : sent) {
      Generation g = byId.get(r.getRequestId());
      assertTrue(g != null, "no generation for " + r.getRequestId());
      assertNotEquals(FinishReason.ERROR, g.getFinishReason(), r.getRequestId() + ": " + g.getError());
      Map.Entry<List<Integer>, String> want = expected.get(r.getRequestId());
      assertEquals(want.getKey(), g.getTokenIds(), r.getRequestId() + " token ids");
      assertEquals(want.getValue(), g.getText(), r.getRequestId() + " text");
    }
  }

  /** Ids of the jobs named {@code name} that are not finished ({@code GET /jobs/overview}). */
  private static List<String> runningJobs(SessionClusterRest rest, String name) throws Exception {
    List<String> ids = new ArrayList<>();
    for (var job : rest.get("/jobs/overview").path("jobs")) {
      if (name.equals(job.path("name").asText())
          && !Set.of("FINISHED", "FAILED", "CANCELED").contains(job.path("state").asText())) {
        ids.add(job.path("jid").asText());
      }
    }
    return ids;
  }

  /** {@code bin/kafka-topics.sh} as Kafka's distribution has it: TopicCommand, here on the test classpath. */
  private static void writeKafkaTopicsCli(Path bin) throws IOException {
    SessionCluster.writeScript(bin.resolve("kafka-topics.sh"),
        "# written by SessionClusterEndToEndTest: Kafka's topic tool, as the apache/kafka image's bin/ runs it",
        "exec '" + SessionCluster.java() + "' -Xmx256m -cp '"
            + String.join(java.io.File.pathSeparator, SessionCluster.testClassPath()) + "' "
            + "org.apache.kafka.tools.TopicCommand \"$@\"");
  }

  static List<byte[]> values(List<InferenceRequest> batch) {
    return batch.stream().map(EndToEnd.REQUESTS::encode).toList();
  }

  /** Waits until the job's consumer group has committed offsets covering {@code records} input records. */
  private static void awaitCommittedOffsets(long records, Duration timeout) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      long deadline = System.nanoTime() + timeout.toNanos();
      long committed = 0;
      while (System.nanoTime() < deadline) {
        Map<TopicPartition, OffsetAndMetadata> offsets =
            admin.listConsumerGroupOffsets(NAME).partitionsToOffsetAndMetadata().get();
        committed = offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(INPUT) && e.getValue() != null)
            .mapToLong(e -> e.getValue().offset()).sum();
        if (committed >= records) {
          return;
        }
        Thread.sleep(200);
      }
      throw new AssertionError("the job's group committed " + committed + " of " + records + " input offsets");
    }
  }

  /** The Prometheus reporters of both processes, as a Prometheus server scrapes them. */
  private static String scrapePrometheus() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    StringBuilder all = new StringBuilder();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline && !all.toString().contains(MetricNames.GENERATIONS)) {
      all.setLength(0);
      for (int port : cluster.prometheusPorts) {
        try {
          HttpResponse<String> response = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + port + "/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString());
          all.append(response.body());
        } catch (IOException e) {
          all.append("(port ").append(port).append(": ").append(e).append(")\n");
        }
      }
      Thread.sleep(500);
    }
    return all.toString();
  }

  static void deleteTree(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (Stream<Path> paths = Files.walk(dir)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }
}
