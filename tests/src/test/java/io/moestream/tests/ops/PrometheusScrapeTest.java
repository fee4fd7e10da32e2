package io.moestream.tests.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.job.config.JobConfig;
import io.moestream.job.config.JobConfigLoader;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitoring path end to end, as the compose stack runs it: the real job (in-JVM Kafka broker,
 * Flink MiniCluster with the Prometheus reporter, a small random Qwen3-MoE) answers requests while a
 * real Prometheus server scrapes the reporter; the generations counter reaches Prometheus under the
 * name the dashboard queries, the reporter's names follow the rule the dashboard is written with,
 * every metric the dashboard and the alert rules name (Flink's checkpoint, restart, backpressure and
 * Kafka source metrics included) is on the reporter's page, and the dashboard's core panels return data.
 */
class PrometheusScrapeTest {
  static final String JOB = "ops-prometheus";
  /** The reporter writes label values with every character outside [A-Za-z0-9:_] as '_'. */
  static final String JOB_LABEL = "ops_prometheus";
  static final int REQUESTS = 6;
  static final int REPORTER_PORT = reporterPort();

  @RegisterExtension static final MiniClusterExtension FLINK = new MiniClusterExtension(
      new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1)
          .setConfiguration(reporterConf()).build());
  @TempDir static Path tmp;
  static PrometheusServer prometheus;

  @AfterAll
  static void stopPrometheus() throws Exception {
    if (prometheus != null) {
      prometheus.close();
    }
  }

  @Test
  void prometheusScrapesTheRunningJob() throws Exception {
    prometheus = PrometheusServer.start(tmp, REPORTER_PORT); // fails with how to install it when missing
    Path model = DemoModel.write(DemoModel.spec(), tmp.resolve("model"));
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      kafka.createTopics(1, JOB + ".requests", JOB + ".generations", JOB + ".dead-letters");
      JobConfig config = JobConfigLoader.defaults()
          .set("model.dir", model.toString()).set("model.threads", 1).set("model.kv_cache_mb", 32)
          .set("kafka.bootstrap_servers", kafka.bootstrapServers()).set("kafka.group_id", JOB)
          .set("kafka.input_topic", JOB + ".requests").set("kafka.output_topic", JOB + ".generations")
          .set("kafka.dead_letter_topic", JOB + ".dead-letters").set("kafka.transactional_id_prefix", JOB)
          .set("kafka.starting_offsets", "earliest").set("flink.job_name", JOB)
          .set("flink.checkpoint_interval_ms", 500).build();
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      InferencePipeline.define(env, config);
      JobClient job = env.executeAsync(JOB);
      try {
        produce(kafka.bootstrapServers(), config.kafka().inputTopic());
        assertEquals(REQUESTS, countGenerations(kafka.bootstrapServers(), config.kafka().outputTopic()),
            "generations on the output topic");

        String generations = OperatorMetrics.prometheusName(MetricNames.GENERATIONS) + "{job_name=\"" + JOB_LABEL + "\"}";
        double seen = awaitValue("sum(" + generations + ")", REQUESTS, Duration.ofSeconds(60));
        assertEquals(REQUESTS, seen, 0.0, "moeGenerations through Prometheus");
        assertTargetUp();
        assertReporterNamesFollowTheRule();
        assertDashboardCorePanelsHaveData();
      } finally {
        JobClients.cancelAndAwait(job, java.time.Duration.ofMinutes(1));
      }
    }
  }

  /** Polls an instant query until its value reaches {@code atLeast}; returns the last value seen. */
  private static double awaitValue(String promql, double atLeast, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    double value = Double.NaN;
    while (System.nanoTime() < deadline) {
      value = prometheus.value(promql);
      if (value >= atLeast) {
        return value;
      }
      Thread.sleep(500);
    }
    throw new AssertionError(promql + " = " + value + " after " + timeout + " (wanted >= " + atLeast + "); targets: "
        + prometheus.targets() + "\nthe reporter's moe lines:\n" + reporterLines("moe", 40)
        + "\nprometheus log:\n" + prometheus.log());
  }

  /** Up to {@code max} lines of the reporter's page that contain {@code part}. */
  private static String reporterLines(String part, int max) {
    try {
      return String.join("\n", reporterPage().lines().filter(l -> l.contains(part)).limit(max).toList());
    } catch (Exception e) {
      return "(reporter page unreadable: " + e + ")";
    }
  }

  private static String reporterPage() throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + REPORTER_PORT + "/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static void assertTargetUp() throws Exception {
    JsonNode targets = prometheus.targets();
    assertEquals(1, targets.size(), targets.toString());
    assertEquals("up", targets.get(0).path("health").asText(), targets.toString());
    assertEquals("127.0.0.1:" + REPORTER_PORT, targets.get(0).path("labels").path("instance").asText());
  }

  /**
   * Every operator metric the reporter exposes with a MetricNames name has the Prometheus name
   * {@link OperatorMetrics#prometheusName} gives it (the names the dashboard uses): checked on the
   * reporter's own page, so group keys in names (layer, expert) are checked against Flink itself.
   */
  private static void assertReporterNamesFollowTheRule() throws Exception {
    String page = reporterPage();
    Map<String, String> known = OperatorMetrics.byPrometheusName();
    Set<String> exposed = new TreeSet<>();
    Set<String> exposedMoe = new TreeSet<>();
    List<String> unexpected = new ArrayList<>();
    for (String line : page.split("\n")) {
      if (!line.startsWith("# TYPE flink_")) {
        continue;
      }
      String family = line.split(" ")[2];
      exposed.add(family);
      String metric = family.substring(family.lastIndexOf('_') + 1);
      if (!family.startsWith(FlinkMetrics.OPERATOR) || !metric.startsWith("moe")) {
        continue;
      }
      exposedMoe.add(family);
      if (!known.containsKey(family)) {
        unexpected.add(family);
      }
    }
    assertTrue(exposedMoe.contains(OperatorMetrics.prometheusName(MetricNames.GENERATIONS)), exposedMoe.toString());
    assertTrue(unexpected.isEmpty(), "reporter names the dashboard's rule does not produce: " + unexpected
        + " (exposed: " + exposedMoe + ")");
    Set<String> notExposed = new TreeSet<>(known.keySet());
    notExposed.removeAll(exposedMoe);
    System.err.println("PrometheusScrapeTest: MetricNames constants the running job does not expose: " + notExposed);

    // Flink's own names the dashboard and the alerts use (checkpoints, restarts, backpressure, the
    // Kafka source's lag) are the ones Flink's reporter really writes
    Set<String> flinkMissing = new TreeSet<>(FlinkMetrics.KNOWN.keySet());
    flinkMissing.removeAll(exposed);
    assertTrue(flinkMissing.isEmpty(), "FlinkMetrics.KNOWN names the reporter does not expose: " + flinkMissing
        + "\nexposed job/task families: " + exposed.stream().filter(f -> !f.startsWith(FlinkMetrics.OPERATOR + "moe")
            && !f.startsWith(FlinkMetrics.OPERATOR + "layer")).toList());

    // every metric the dashboard and the alert rules query is one the running job exposes, under that very name
    Path stackDir = ComposeStack.load().dir;
    Set<String> queried = FlinkMetrics.namesIn(Files.readString(stackDir.resolve("grafana/dashboards/moestream.json"))
        + Files.readString(stackDir.resolve("prometheus/rules/moestream-alerts.yml")));
    queried.removeAll(exposed);
    assertTrue(queried.isEmpty(), "the dashboard or the alert rules query metrics the running job does not expose: "
        + queried);
  }

  /** The dashboard's core queries, with the variables set to this job, return series from Prometheus. */
  private static void assertDashboardCorePanelsHaveData() throws Exception {
    String selector = "{job_name=\"" + JOB_LABEL + "\"}";
    List<String> core = List.of(
        "sum(" + OperatorMetrics.prometheusName(MetricNames.GENERATIONS_PER_SECOND) + selector + ")",
        "max by (quantile) (" + OperatorMetrics.prometheusName(MetricNames.TIME_TO_FIRST_TOKEN_MS)
            + "{job_name=\"" + JOB_LABEL + "\", quantile=~\"0.5|0.95|0.99\"})",
        "sum(" + OperatorMetrics.prometheusName(MetricNames.WAITING_REQUESTS) + selector + ")",
        "max(" + OperatorMetrics.prometheusName(MetricNames.CONSUMER_LAG) + selector + ")",
        "sum by (expert) (" + OperatorMetrics.prometheusName(MetricNames.EXPERT_TOKENS) + selector + ")");
    for (String promql : core) {
      JsonNode result = prometheus.query(promql);
      assertTrue(result.size() > 0, "no data for the dashboard query " + promql);
    }
    JsonNode quantiles = prometheus.query(core.get(1));
    assertEquals(3, quantiles.size(), "p50, p95, p99 of time to first token: " + quantiles);
    JsonNode experts = prometheus.query(core.get(4));
    double routed = 0;
    for (JsonNode series : experts) {
      routed += Double.parseDouble(series.path("value").get(1).asText());
    }
    assertTrue(routed > 0, "tokens were routed to experts: " + experts);
  }

  private static void produce(String bootstrap, String topic) {
    AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
    try (KafkaProducer<byte[], byte[]> producer = TopicClients.producer(bootstrap)) {
      for (int i = 0; i < REQUESTS; i++) {
        InferenceRequest request = InferenceRequest.newBuilder().setRequestId("ops-" + i)
            .setPrompt("Request " + i + ": say something about metrics.").setMaxNewTokens(4 + i % 3)
            .setSampling(Sampling.newBuilder().build()).build();
        producer.send(TopicClients.avroRecord(topic, request, codec));
      }
      producer.flush();
    }
  }

  private static int countGenerations(String bootstrap, String topic) {
    int count = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = TopicClients.committedReader(bootstrap, null)) {
      consumer.subscribe(List.of(topic));
      while (count < REQUESTS && System.nanoTime() < deadline) {
        count += consumer.poll(Duration.ofMillis(300)).count();
      }
    }
    return count;
  }

  private static Configuration reporterConf() {
    Configuration conf = new Configuration();
    conf.set(ConfigOptions.key("metrics.reporter.prom.factory.class").stringType().noDefaultValue(),
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
    conf.set(ConfigOptions.key("metrics.reporter.prom.port").stringType().noDefaultValue(),
        Integer.toString(REPORTER_PORT));
    return conf;
  }

  private static int reporterPort() {
    try {
      return PrometheusServer.freePort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
