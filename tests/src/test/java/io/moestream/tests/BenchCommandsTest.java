package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.job.cli.MoestreamCli;
import io.moestream.job.pipeline.DemoModel;
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
 * The pipeline benchmarks as a user runs them (each starts its own in-process broker and local Flink
 * cluster): bench-pipeline's report, and bench-ramp's default policies and its report of a ramp that
 * did not complete.
 */
class BenchCommandsTest {
  @TempDir static Path tmp;

  @Test
  void benchPipelineComparesTheSameRequests() throws Exception {
    Path model = DemoModel.write(DemoModel.spec(), tmp.resolve("model"));
    Path report = tmp.resolve("pipeline.md");
    String out = run(0, "bench-pipeline", "--model", model.toString(), "--requests", "8", "--max-new-tokens", "6",
        "--max-in-flight", "4", "--max-batch-size", "4", "--threads", "1", "--set", "model.kv_cache_mb=32", "--markdown", report.toString());
    assertEquals(out, Files.readString(report));
    // the engine alone and the job ran the same requests with the same engine: the same tokens
    assertTrue(out.contains("Answers identical to the engine alone's: 8 of 8."), out);
    Matcher ratio = Pattern.compile("\\*\\*([0-9.]+)x\\*\\*").matcher(out);
    assertTrue(ratio.find() && Double.parseDouble(ratio.group(1)) > 0, out);
    for (String use : List.of("engine step", "tokens", "emit", "intake", "snapshot", "waiting with work",
        "waiting for input")) {
      assertTrue(Pattern.compile("\\| " + use + " \\| [0-9]+ \\|").matcher(out).find(), use + " missing:\n" + out);
    }
    Matcher engineMs = Pattern.compile("\\| engine step \\| ([0-9]+) \\|").matcher(out);
    assertTrue(engineMs.find() && Long.parseLong(engineMs.group(1)) > 0, "the job's engine time was measured:\n" + out);
    assertTrue(out.contains("job: of which waiting for the commit"), out);
  }

  @Test
  void benchRampKeepsWhatAnIncompleteRampMeasured() throws Exception {
    Path model = DemoModel.write(DemoModel.spec(), tmp.resolve("ramp-model"));
    Path csv = tmp.resolve("ramp.csv");
    // no --policies: the default 'full,adaptive'; no drain: requests are still unanswered at the end
    String out = run(1, "bench-ramp", "--model", model.toString(), "--phases", "2s@4", "--max-new-tokens", "64",
        "--drain", "0", "--threads", "1", "--set", "model.kv_cache_mb=32", "--csv", csv.toString());
    assertTrue(out.contains("**full: INCOMPLETE**") && out.contains("**adaptive: INCOMPLETE**"), out);
    List<String> rows = Files.readAllLines(csv);
    assertTrue(rows.stream().anyMatch(r -> r.startsWith("full,")) && rows.stream().anyMatch(r -> r.startsWith("adaptive,")),
        "both policies' seconds are in the CSV: " + rows);
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
