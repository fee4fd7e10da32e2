package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.ramp.RampSchedule;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench-ramp --tasks as a user runs it (its own broker and local Flink cluster), on the random-weight
 * demo model: a short ramp of three task items, every answer read back and scored in the phase it was
 * sent in, the per-task counts adding up to the phase's. One item's answer is what {@code generate}
 * says greedily for its prompt as chat, so the scoring must find every one of those right; the others'
 * answers the random model cannot know, so they only have to be counted.
 */
class BenchRampTasksTest {
  @TempDir Path tmp;

  @Test
  void everyTaskAnswerIsScoredInItsPhase() throws Exception {
    Path model = DemoModel.write(DemoModel.spec(), tmp.resolve("model"));
    int maxNewTokens = 4;
    String echo = "Say something short.";
    ObjectNode generated = (ObjectNode) new ObjectMapper().readTree(run(0, "generate", "--model", model.toString(),
        "--chat", "--prompt", echo, "--temperature", "0", "--max-new-tokens", "" + maxNewTokens, "--json"));
    String expected = generated.get("text").asText().strip();
    assertFalse(expected.isEmpty(), "the premise: the demo model says something for the echo prompt: " + generated);
    ObjectMapper json = new ObjectMapper();
    Path tasks = tmp.resolve("tasks.jsonl");
    Files.writeString(tasks, String.join("\n",
        json.writeValueAsString(java.util.Map.of("task", "echo", "prompt", echo, "answer", expected)),
        json.writeValueAsString(java.util.Map.of("task", "add", "prompt", "What is 1 + 2?", "answer", "3")),
        json.writeValueAsString(java.util.Map.of("task", "add", "prompt", "What is 2 + 3?", "answer", "5"))) + "\n");

    String phases = "2s@2,2s@4,2s@2";
    Path report = tmp.resolve("ramp.md");
    String out = run(0, "bench-ramp", "--model", model.toString(), "--policies", "full", "--phases", phases,
        "--max-new-tokens", "" + maxNewTokens, "--tasks", tasks.toString(), "--threads", "1",
        "--set", "model.kv_cache_mb=32", "--set", "flink.checkpoint_interval_ms=300", "--markdown", report.toString());
    assertEquals(out, Files.readString(report));
    assertTrue(out.contains("| task accuracy (light / overload / light-after) |"), out);

    // what each phase was sent, by task: request n carries item (n - 1) mod 3, items echo, add, add
    RampSchedule schedule = RampSchedule.parse(phases);
    double[] sendTimes = schedule.sendTimes();
    int[][] sentByTask = new int[3][2];
    for (int n = 1; n <= sendTimes.length; n++) {
      sentByTask[schedule.phaseAt(sendTimes[n - 1])][(n - 1) % 3 == 0 ? 0 : 1]++;
    }
    String[] labels = {"light 2s@2", "overload 2s@4", "light-after 2s@2"};
    int correctSum = 0;
    for (int p = 0; p < 3; p++) {
      Row row = row(out, labels[p]);
      int sent = sentByTask[p][0] + sentByTask[p][1];
      assertEquals(sent, row.sent, labels[p] + ": sent\n" + out);
      assertEquals(sent, row.overall[1], labels[p] + ": every answer scored\n" + out);
      assertEquals(sentByTask[p][0], row.echo[1], labels[p] + ": echo items scored\n" + out);
      assertEquals(sentByTask[p][0], row.echo[0], labels[p] + ": greedy chat answers equal generate's\n" + out);
      assertEquals(sentByTask[p][1], row.add[1], labels[p] + ": add items scored\n" + out);
      assertEquals(row.echo[0] + row.add[0], row.overall[0], labels[p] + ": correct adds up\n" + out);
      correctSum += row.overall[0];
    }
    Row all = row(out, "all phases");
    assertEquals(sendTimes.length, all.sent, out);
    assertEquals(sendTimes.length, all.overall[1], out);
    assertEquals(correctSum, all.overall[0], out);
  }

  /** One accuracy row: sent, then correct and scored of all tasks, echo and add. */
  private record Row(int sent, int[] overall, int[] echo, int[] add) {}

  private static Row row(String markdown, String phase) {
    String cell = "[0-9.]+ \\(([0-9]+)/([0-9]+)\\) \\[[0-9.]+, [0-9.]+\\]";
    Matcher m = Pattern.compile("\\| full \\| " + Pattern.quote(phase) + " \\| ([0-9]+) \\| ([0-9]+) \\| " + cell
        + " \\| [0-9.]+ \\| " + cell + " \\| " + cell + " \\|").matcher(markdown);
    assertTrue(m.find(), "no accuracy row for " + phase + " with both tasks scored:\n" + markdown);
    int[] g = new int[8];
    for (int i = 0; i < 8; i++) {
      g[i] = Integer.parseInt(m.group(i + 1));
    }
    assertEquals(g[1], g[3], phase + ": the scored column and the accuracy's denominator");
    return new Row(g[0], new int[] {g[2], g[3]}, new int[] {g[4], g[5]}, new int[] {g[6], g[7]});
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
    String out = captured.toString(StandardCharsets.UTF_8);
    assertEquals(expectedExit, exit, "exit code of " + List.of(args) + "; stdout:\n" + out);
    return out;
  }
}
