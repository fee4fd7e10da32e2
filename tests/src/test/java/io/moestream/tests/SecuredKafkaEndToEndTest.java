package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.job.config.JobConfig;
import io.moestream.job.config.JobConfigLoader;
import io.moestream.job.config.KafkaClientProperties;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secured cluster (issue 19): a broker whose only client listener is SASL_SSL (PLAIN over TLS, a
 * self-signed certificate made by the test). The job, configured through {@code kafka.properties}
 * with the password taken from the environment, answers requests written by {@code produce
 * --command-config} and read back by {@code consume --command-config}; a wrong password makes the
 * commands and the job fail with Kafka's authentication error instead of waiting.
 */
class SecuredKafkaEndToEndTest {
  /** Set by surefire (tests/pom.xml): the job and the commands read it as a user's deployment would. */
  static final String PASSWORD_VARIABLE = "MOESTREAM_TEST_KAFKA_PASSWORD";
  private static final String NAME = "secured";
  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path tmp;

  @Test
  void theJobAnswersOverSaslSslAndAWrongPasswordFails() throws Exception {
    String password = System.getenv(PASSWORD_VARIABLE);
    assertNotNull(password, PASSWORD_VARIABLE + " is set by surefire (tests/pom.xml): run this suite through Maven");
    Path model = DemoModel.write(DemoModel.spec(), tmp.resolve("model"));
    try (SecuredKafka kafka = SecuredKafka.start(tmp, password)) {
      String bootstrap = kafka.bootstrapServers();
      Map<String, String> fromEnvironment = kafka.clientProperties("${" + PASSWORD_VARIABLE + "}");
      Path clientConfig = propertiesFile("client.properties", fromEnvironment);
      Path wrongConfig = propertiesFile("wrong.properties", kafka.clientProperties("not-the-password"));
      TopicClients.createTopics(bootstrap, KafkaClientProperties.parse(fromEnvironment, "test: ", System.getenv(),
          KafkaClientProperties.COMMAND_OWNED), 1, NAME + ".requests", NAME + ".generations", NAME + ".dead-letters");

      JobConfig config = config(model, bootstrap, fromEnvironment);
      assertTrue(config.kafka().clientConfig().get("sasl.jaas.config").contains(password), "resolved");
      assertFalse(config.toString().contains(password), "the password is not printed: " + config);
      JobClient job = submit(config);
      try {
        Path prompts = tmp.resolve("prompts.jsonl");
        Files.writeString(prompts, String.join("\n",
            "{\"request_id\": \"a\", \"prompt\": \"Hello there\", \"max_new_tokens\": 3}",
            "{\"request_id\": \"b\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_new_tokens\": 2}",
            "{\"request_id\": \"c\", \"prompt\": \"Count to three\", \"max_new_tokens\": 4}", ""));
        run(0, "produce", "--bootstrap-servers", bootstrap, "--command-config", clientConfig.toString(),
            "--topic", NAME + ".requests", "--input", prompts.toString());
        String consumed = run(0, "consume", "--bootstrap-servers", bootstrap, "--command-config", clientConfig.toString(),
            "--topic", NAME + ".generations", "--max", "3", "--timeout", "60").out();
        Set<String> ids = new HashSet<>();
        ObjectMapper json = new ObjectMapper();
        assertFalse(consumed.isBlank(), "no generation read back");
        for (String line : consumed.strip().split("\n")) {
          JsonNode g = json.readTree(line);
          ids.add(g.get("request_id").asText());
          assertEquals(g.get("token_ids").size(), g.get("completion_tokens").asInt(), line);
        }
        assertEquals(Set.of("a", "b", "c"), ids);
      } finally {
        JobClients.cancelAndAwait(job, Duration.ofMinutes(1));
      }

      // a wrong password: each command stops at once, saying why
      String refused = run(1, "produce", "--bootstrap-servers", bootstrap, "--command-config", wrongConfig.toString(),
          "--topic", NAME + ".requests", "--prompt", "Hi").err();
      assertTrue(refused.contains("Authentication failed"), refused);
      refused = run(1, "consume", "--bootstrap-servers", bootstrap, "--command-config", wrongConfig.toString(),
          "--topic", NAME + ".generations", "--timeout", "30").err();
      assertTrue(refused.contains("Authentication failed"), refused);
      // ... and so does the job (no restarts configured), instead of waiting for a broker that refuses it
      JobClient wrong = submit(config(model, bootstrap, kafka.clientProperties("not-the-password")));
      ExecutionException failed = assertThrows(ExecutionException.class,
          () -> wrong.getJobExecutionResult().get(60, TimeUnit.SECONDS));
      assertTrue(causes(failed).contains("Authentication failed"), causes(failed));
    }
  }

  private static JobConfig config(Path model, String bootstrap, Map<String, String> clientProperties) {
    JobConfigLoader loader = JobConfigLoader.defaults()
        .set("model.dir", model.toString()).set("model.threads", 1).set("model.kv_cache_mb", 32)
        .set("kafka.bootstrap_servers", bootstrap).set("kafka.group_id", NAME)
        .set("kafka.input_topic", NAME + ".requests").set("kafka.output_topic", NAME + ".generations")
        .set("kafka.dead_letter_topic", NAME + ".dead-letters")
        .set("kafka.transactional_id_prefix", NAME)
        .set("flink.checkpoint_interval_ms", 500).set("flink.restart_attempts", 0)
        .set("experts.policy", "full");
    clientProperties.forEach((k, v) -> loader.set("kafka.properties." + k, v));
    return loader.build();
  }

  private static JobClient submit(JobConfig config) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    InferencePipeline.define(env, config);
    return env.executeAsync(NAME);
  }

  private static Path propertiesFile(String name, Map<String, String> values) throws Exception {
    Properties p = new Properties();
    p.putAll(values);
    Path file = tmp.resolve(name);
    try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      p.store(out, "Kafka client properties for --command-config");
    }
    return file;
  }

  /** Every message in the cause chain, one a line. */
  private static String causes(Throwable t) {
    StringBuilder out = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      out.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage()).append('\n');
    }
    return out.toString();
  }

  /** Runs a command in this JVM; returns its output after checking its exit code. */
  private static EndToEnd.Cli run(int expectedExit, String... args) {
    EndToEnd.Cli run = EndToEnd.Cli.run(args);
    assertEquals(expectedExit, run.exit(), "exit code of " + List.of(args) + "; stderr: " + run.err());
    return run;
  }
}
