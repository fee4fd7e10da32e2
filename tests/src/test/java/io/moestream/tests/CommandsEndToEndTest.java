package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.job.cli.MoestreamCli;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.pipeline.DemoModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job's commands as a user runs them, against a real broker: {@code run --config} submits the
 * job (JSON input format) to the Flink cluster, {@code produce} writes JSON-line requests, and
 * {@code consume} prints the generations; a bad configuration is refused before submission.
 */
class CommandsEndToEndTest {
  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path tmp;

  @Test
  void runProduceConsume() throws Exception {
    Path model = DemoModel.write(DemoModel.spec(), tmp.resolve("model"));
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      kafka.createTopics(1, "cli.requests", "cli.generations", "cli.dead-letters");
      Path config = tmp.resolve("job.yaml");
      Files.writeString(config, String.join("\n",
          "model:", "  dir: " + model, "  threads: 1", "  kv_cache_mb: 32",
          "kafka:", "  bootstrap_servers: " + kafka.bootstrapServers(), "  group_id: cli",
          "  input_topic: cli.requests", "  output_topic: cli.generations", "  dead_letter_topic: cli.dead-letters",
          "  input_format: json", "  transactional_id_prefix: cli",
          "flink:", "  checkpoint_interval_ms: 500", ""));

      String refused = run(1, "run", "--config", config.toString(), "--max-in-flight", "0", "--detached");
      assertTrue(refused.isEmpty(), "nothing is submitted for a bad configuration: " + refused);

      String jobId = run(0, "run", "--config", config.toString(), "--detached").trim();
      assertEquals(32, jobId.length(), "job id printed: " + jobId);

      Path prompts = tmp.resolve("prompts.jsonl");
      Files.writeString(prompts, String.join("\n",
          "{\"request_id\": \"a\", \"prompt\": \"Hello there\", \"max_new_tokens\": 3}",
          "{\"request_id\": \"b\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_new_tokens\": 2}",
          "{\"request_id\": \"c\", \"prompt\": \"Count to three\", \"max_new_tokens\": 4,"
              + " \"sampling\": {\"temperature\": 0.9, \"seed\": 5}}", ""));
      run(0, "produce", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", "cli.requests",
          "--input", prompts.toString(), "--format", "json");

      String consumed = run(0, "consume", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", "cli.generations",
          "--max", "3", "--timeout", "120");
      Set<String> ids = new HashSet<>();
      ObjectMapper json = new ObjectMapper();
      for (String line : consumed.strip().split("\n")) {
        JsonNode g = json.readTree(line);
        ids.add(g.get("request_id").asText());
        assertEquals(g.get("token_ids").size(), g.get("completion_tokens").asInt());
      }
      assertEquals(Set.of("a", "b", "c"), ids);
    }
  }

  /** Runs a command in this JVM; returns its stdout after checking its exit code. */
  private static String run(int expectedExit, String... args) {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int exit;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      exit = MoestreamCli.execute(args);
    } finally {
      System.setOut(stdout);
    }
    assertEquals(expectedExit, exit, "exit code of " + List.of(args));
    return captured.toString(StandardCharsets.UTF_8);
  }
}
