package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.job.pipeline.TrainedDemoModel;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The README's first command, {@code ./moestream demo}, in this JVM: its own Kafka broker, its own
 * local Flink cluster with the dashboard, the trained demo model; every generation printed once and exit 0,
 * the job cancelled and the cluster gone before it returns.
 */
class DemoCommandTest {
  @Test
  void theDemoAnswersEveryRequestAndExitsZero() throws Exception {
    int dashboardPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      dashboardPort = socket.getLocalPort();
    }
    EndToEnd.Cli run = EndToEnd.Cli.run("demo", "--count", "4", "--max-new-tokens", "6",
        "--dashboard-port", Integer.toString(dashboardPort), "--metrics-port", "0", "--timeout", "180");
    assertEquals(0, run.exit(), run.err());
    Set<String> ids = new HashSet<>();
    for (String line : run.out().strip().split("\n")) {
      if (!line.startsWith("{")) {
        continue; // a log line of the test JVM's logging set-up
      }
      JsonNode generation = new ObjectMapper().readTree(line);
      assertTrue(ids.add(generation.get("request_id").asText()), "printed twice: " + line);
      assertTrue(generation.get("completion_tokens").asInt() > 0, line);
    }
    assertEquals(4, ids.size(), run.out());
    assertTrue(run.err().contains("all 4 requests answered"), run.err());
  }

  /** Without --model the demo runs the trained model: its sample questions get the tasks' exact answers. */
  @Test
  void theDemoAnswersItsSampleQuestions() throws Exception {
    int dashboardPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      dashboardPort = socket.getLocalPort();
    }
    int samples = TrainedDemoModel.SAMPLES.size();
    EndToEnd.Cli run = EndToEnd.Cli.run("demo", "--count", Integer.toString(samples), "--dashboard-port",
        Integer.toString(dashboardPort), "--metrics-port", "0", "--timeout", "180");
    assertEquals(0, run.exit(), run.err());
    for (TrainedDemoModel.Sample sample : TrainedDemoModel.SAMPLES) {
      assertTrue(run.err().contains("[" + sample.task() + "] " + sample.question() + "  ->  " + sample.answer()
          + "   (correct)"), sample + "\n" + run.err());
    }
    assertTrue(run.err().contains(samples + " of " + samples + " answers as expected"), run.err());
  }
}
