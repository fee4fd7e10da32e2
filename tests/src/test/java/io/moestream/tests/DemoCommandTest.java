package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.job.pipeline.DemoTasks;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The README's first command, {@code ./moestream demo}, in this JVM: its own Kafka broker, its own
 * local Flink cluster with the dashboard, the demo model; every generation printed once and exit 0,
 * the job cancelled and the cluster gone before it returns.
 */
class DemoCommandTest {
  /**
   * The default demo runs the trained model of tools/train, which answers each of its sample
   * questions (one held-out item of each task) exactly, greedy, through the chat template.
   */
  @Test
  void theDemoAnswersItsSampleQuestions() throws Exception {
    int count = DemoTasks.SAMPLES.size();
    EndToEnd.Cli run = demo("--count", Integer.toString(count));
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.err().contains("runs the small Qwen3-MoE that tools/train trained"), run.err());
    Map<String, JsonNode> generations = generations(run, count);
    List<String> wrong = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      DemoTasks.Sample sample = DemoTasks.SAMPLES.get(i);
      String answer = generations.get("demo-" + i).get("text").asText();
      if (!answer.equals(sample.answer())) {
        wrong.add(sample.task() + ": " + sample.question() + " -> '" + answer + "', expected '" + sample.answer() + "'");
      }
    }
    assertEquals(List.of(), wrong, "answers that are not the expected ones");
    assertTrue(run.err().contains(count + " of " + count + " answers are the expected ones"), run.err());
  }

  /** --random-model: the random-weight model of the speed tests still runs the whole demo. */
  @Test
  void theRandomModelAnswersEveryRequest() throws Exception {
    EndToEnd.Cli run = demo("--random-model", "--count", "4", "--max-new-tokens", "6");
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.err().contains("RANDOM-WEIGHT"), run.err());
    for (JsonNode generation : generations(run, 4).values()) {
      assertTrue(generation.get("completion_tokens").asInt() > 0, generation.toString());
    }
    assertTrue(run.err().contains("all 4 requests answered"), run.err());
  }

  private static EndToEnd.Cli demo(String... options) throws Exception {
    int dashboardPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      dashboardPort = socket.getLocalPort();
    }
    List<String> args = new ArrayList<>(List.of("demo", "--dashboard-port", Integer.toString(dashboardPort),
        "--metrics-port", "0", "--timeout", "180"));
    args.addAll(List.of(options));
    return EndToEnd.Cli.run(args.toArray(String[]::new));
  }

  /** The generations printed on stdout by request id, each printed once. */
  private static Map<String, JsonNode> generations(EndToEnd.Cli run, int expected) throws Exception {
    Map<String, JsonNode> byId = new LinkedHashMap<>();
    for (String line : run.out().strip().split("\n")) {
      if (!line.startsWith("{")) {
        continue; // a log line of the test JVM's logging set-up
      }
      JsonNode generation = new ObjectMapper().readTree(line);
      assertEquals(null, byId.put(generation.get("request_id").asText(), generation), "printed twice: " + line);
    }
    assertEquals(expected, byId.size(), run.out());
    return byId;
  }
}
