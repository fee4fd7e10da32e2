package io.moestream.job.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import io.moestream.job.config.JobConfig;
import io.moestream.job.config.JobConfigLoader;
import io.moestream.job.soak.SoakRun.Sent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The soak's verdict on made-up outcomes: what counts as answered once, missing, duplicated, a gap. */
class SoakReportTest {
  @TempDir Path tmp;

  private JobConfig config() throws Exception {
    Path model = tmp.resolve("model");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 4, 16), model);
    Files.writeString(model.resolve("tokenizer.json"), "{}");
    return JobConfigLoader.defaults().set("model.dir", model.toString()).build(); // checkpoints every 2 s
  }

  private static SoakRun.Result result(JobConfig config, Map<String, Integer> generations,
      Map<String, Integer> deadLetters, Map<Long, Long> checkpoints) {
    SoakRun.Settings settings = new SoakRun.Settings(0, 30, 60, 3, Duration.ofSeconds(30), 1, 32,
        Duration.ofSeconds(120), 5000, false);
    Map<String, Sent> good = Map.of("a", new Sent("request", 0, 0), "b", new Sent("request", 0, 1),
        "c", new Sent("request", 0, 2), "d", new Sent("request", 0, 3));
    List<Sent> bad = List.of(new Sent("random-bytes", 0, 4), new Sent("json-on-avro", 0, 5));
    List<SoakSampler.Sample> samples = List.of(
        new SoakSampler.Sample(0, 100, 200, 100, 1, 0, 0, 0, 0, 0, 0, 0, 0),
        new SoakSampler.Sample(40, 110, 200, 100, 5, 10, 0, 0, 0, 0, 0, 0, 0),
        new SoakSampler.Sample(70, 130, 200, 100, 9, 20, 0, 0, 0, 0, 0, 0, 0));
    return new SoakRun.Result(settings, config, 2.0, 6.0, good, bad, 0, generations, deadLetters, Map.of(), 0,
        samples, checkpoints, 1_000_000, 10, 70, 75, true);
  }

  private static Map<Long, Long> everyTwoSeconds() {
    Map<Long, Long> m = new java.util.TreeMap<>();
    for (long t = 10; t <= 70; t += 2) {
      m.put(t, 1_000_000 + t * 1000);
    }
    return m;
  }

  @Test
  void passesWhenEachRequestAndBadRecordIsAnsweredOnce() throws Exception {
    // d was dead-lettered (at 0:3) rather than generated: answered once all the same
    SoakReport report = new SoakReport(result(config(), Map.of("a", 1, "b", 1, "c", 1),
        Map.of("0:3", 1, "0:4", 1, "0:5", 1), everyTwoSeconds()));
    assertEquals(List.of(), report.failures(), report.markdown());
    assertEquals(4, report.answeredOnce);
    assertEquals(1, report.requestsDeadLettered);
    assertEquals(2, report.badOnce);
    assertEquals(2.0, report.longestGapS, 1e-9);
    assertEquals(30, report.checkpointsCompleted); // acknowledged at 12, 14, ..., 70 s
    // heap after GC over the second half (40 -> 70 s): 110 -> 130 MB, 40 MB per minute
    assertEquals(40.0, report.heapTrendMbPerMinute(), 1e-9);
    assertTrue(report.markdown().contains("| verdict | PASS |"), report.markdown());
  }

  @Test
  void failsOnMissingDuplicatedStrayAndCheckpointGaps() throws Exception {
    Map<Long, Long> checkpoints = everyTwoSeconds();
    checkpoints.keySet().removeIf(t -> t > 20 && t < 50); // 30 s without a checkpoint: over 10 intervals
    SoakReport report = new SoakReport(result(config(), Map.of("a", 2, "b", 1, "stray", 1),
        Map.of("0:1", 1, "0:4", 2), checkpoints));
    // a: two generations; b: a generation and a dead letter, two answers as well
    assertEquals(2, report.duplicated);
    assertEquals(2, report.missing); // c and d
    assertEquals(1, report.badMissing);
    assertEquals(1, report.badDuplicated);
    assertEquals(1, report.unexpected);
    assertEquals(30.0, report.longestGapS, 1e-9);
    List<String> failures = report.failures();
    assertEquals(4, failures.size(), failures.toString());
    assertTrue(failures.get(3).startsWith("checkpoints stopped completing"), failures.toString());
  }

  @Test
  void poisonRecordsHaveTheirAdvertisedSizes() {
    PoisonRecords poison = new PoisonRecords();
    assertEquals(8, poison.next(0).value().length);
    assertEquals(18, poison.next(1).value().length);
    assertEquals(2 << 20, poison.next(3).value().length);
    assertEquals("string-length-bomb", poison.next(PoisonRecords.KINDS.size()).kind());
  }
}
