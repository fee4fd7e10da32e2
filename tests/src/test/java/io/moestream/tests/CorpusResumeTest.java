package io.moestream.tests;

import io.moestream.operators.records.RoutedGeneration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.job.cli.MoestreamCli;
import io.moestream.job.config.JobConfig;
import io.moestream.job.config.JobConfigLoader;
import io.moestream.job.corpus.CorpusFiles;
import io.moestream.job.corpus.CorpusFormat;
import io.moestream.job.corpus.CorpusJob;
import io.moestream.job.corpus.CorpusOutput;
import io.moestream.job.corpus.PromptDefaults;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.operators.codec.RequestJson;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corpus run killed for real (SIGKILL of its JVM, a separate {@code moestream corpus} process) after
 * it wrote some generations, then rerun with the same output: every request ends with exactly one
 * generation, each equal to the reference, and the rerun ran only what the killed run left. A line
 * cut short by the kill is tolerated (one is appended by hand too, in case the kill fell between two
 * records) and cut off. A third run finds nothing to do. And a task failure inside one run: the
 * restarted task skips what the failed attempt wrote.
 */
class CorpusResumeTest {
  static final int REQUESTS = 300;

  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path shared;
  @TempDir Path tmp;
  static Path model;

  @BeforeAll
  static void writeModel() throws Exception {
    model = DemoModel.write(DemoModel.spec().withMaxPositionEmbeddings(512), shared.resolve("model"));
  }

  @Test
  void aRerunAfterAKillFinishesTheRestAndDoesNoRecordTwice() throws Exception {
    // the requests (4 to 8 new tokens) whose reference the streaming suites verify
    List<InferenceRequest> requests = EndToEnd.goodRequests(REQUESTS);
    Path input = Files.createDirectories(tmp.resolve("input"));
    for (int f = 0; f < 2; f++) {
      List<String> lines = new ArrayList<>();
      for (int i = f * REQUESTS / 2; i < (f + 1) * REQUESTS / 2; i++) {
        lines.add(RequestJson.toJson(requests.get(i)));
      }
      Files.write(input.resolve("half-" + f + ".jsonl"), lines);
    }
    Path output = tmp.resolve("output");

    // 1. a separate JVM, killed with SIGKILL once it has written some generations
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules=jdk.incubator.vector", "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED", "-Xmx1g",
        "-cp", System.getProperty("java.class.path"), MoestreamCli.class.getName(),
        "corpus", "--model", model.toString(), "--input", input.toString(), "--output", output.toString(),
        // one request at a time: the run lasts long enough to be killed in the middle
        "--threads", "1", "--max-in-flight", "1", "--max-batch-size", "1", "--set", "model.kv_cache_mb=64",
        "--progress", "plain", "--progress-interval", "1"));
    Path log = tmp.resolve("killed-run.log");
    Process killed = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    int before;
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
      while ((before = generationLines(output)) < 40) {
        assertTrue(killed.isAlive(), "the first run ended before it could be killed:\n" + Files.readString(log));
        assertTrue(System.nanoTime() < deadline, "no 40 generations within 4 minutes:\n" + Files.readString(log));
        Thread.sleep(50);
      }
    } finally {
      killed.destroyForcibly();
      killed.waitFor(30, TimeUnit.SECONDS);
    }
    String killedLog = Files.readString(log);
    System.err.print(killedLog);
    assertTrue(killedLog.contains("corpus: "), "no progress line from the killed run:\n" + killedLog);
    Map<String, Integer> afterKill = countIds(output);
    int survived = afterKill.size();
    assertTrue(survived >= 40 && survived < REQUESTS, "generations written before the kill: " + survived);
    afterKill.forEach((id, n) -> assertEquals(1, n, id + " written twice by the killed run"));
    // a line cut short, as a kill in the middle of a write leaves it
    Path last = newestGenerationsFile(output);
    String unfinished = "{\"request_id\":\"req-" + (REQUESTS - 1) + "\",\"text\":\"half a li";
    Files.writeString(last, unfinished, StandardCharsets.UTF_8, StandardOpenOption.APPEND);

    // 2. the rerun (in this JVM, on the suite's MiniCluster) runs the rest only
    EndToEnd.Cli rerun = EndToEnd.Cli.run("corpus", "--model", model.toString(), "--input",
        input.toString(), "--output", output.toString(), "--threads", "1", "--set", "model.kv_cache_mb=64",
        "--progress", "plain", "--progress-interval", "1");
    assertEquals(0, rerun.exit(), rerun.err());
    assertTrue(rerun.err().contains(REQUESTS + " records in 2 file(s); " + survived + " already answered"), rerun.err());
    assertTrue(rerun.err().contains("cut the unfinished last line of " + last.getFileName()), rerun.err());
    assertTrue(Files.readString(last).endsWith("\n"), "the unfinished line is still there");

    assertEachAnsweredOnceAsTheReference(output, requests);

    // 3. nothing left: a third run submits no job and writes nothing
    long files = outputFiles(output);
    EndToEnd.Cli third = EndToEnd.Cli.run("corpus", "--model", model.toString(), "--input",
        input.toString(), "--output", output.toString(), "--progress", "off");
    assertEquals(0, third.exit(), third.err());
    assertTrue(third.err().contains(REQUESTS + " already answered"), third.err());
    assertEquals(files, outputFiles(output));
  }

  /**
   * A task failure inside one run (thrown after 30 generations passed, the 30th lost with it): Flink
   * restarts the task, whose first operator reads the output again and skips what the failed attempt
   * wrote; every request still ends with one generation, equal to the reference.
   */
  @Test
  void aTaskRestartInsideARunSkipsWhatTheFailedAttemptWrote() throws Exception {
    List<InferenceRequest> requests = EndToEnd.goodRequests(120);
    Path input = Files.createDirectories(tmp.resolve("input"));
    Files.write(input.resolve("requests.jsonl"), requests.stream().map(RequestJson::toJson).toList());
    Path output = tmp.resolve("output");
    JobConfig config = JobConfigLoader.defaults().set("model.dir", model.toString()).set("model.threads", 1)
        .set("model.kv_cache_mb", 64).set("experts.policy", "full").set("batching.max_in_flight", 8)
        .set("batching.max_batch_size", 8).set("flink.restart_attempts", 2).set("flink.restart_delay_ms", 200).build();
    String runId = CorpusOutput.newRunId();
    CorpusJob.Plan plan = new CorpusJob.Plan(CorpusFiles.resolve(input.toString(), output), CorpusFormat.JSONL,
        PromptDefaults.schemaDefaults(), output, runId, config);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    CorpusJob.configure(env, config);
    InferencePipeline.Streams streams = CorpusJob.build(env, plan);
    FailOnce.failed.set(false);
    FailOnce.seen.set(0);
    CorpusJob.attachSinks(new InferencePipeline.Streams(streams.generations().map(new FailOnce()).name("fail once"),
        streams.deadLetters()), plan);
    env.execute("corpus-restart");

    assertTrue(FailOnce.failed.get(), "the failure was never injected");
    assertTrue(Files.isRegularFile(output.resolve("generations-" + runId + "-0-0.jsonl")), "no file of the failed attempt");
    assertTrue(Files.isRegularFile(output.resolve("generations-" + runId + "-0-1.jsonl")), "no file of the restarted attempt");
    assertEquals(29, Files.readAllLines(output.resolve("generations-" + runId + "-0-0.jsonl")).size());
    assertEachAnsweredOnceAsTheReference(output, requests);
  }

  /** Passes generations on and throws once, at the 30th (which is lost with the failed attempt). */
  static final class FailOnce implements MapFunction<RoutedGeneration, RoutedGeneration> {
    static final AtomicBoolean failed = new AtomicBoolean();
    static final AtomicInteger seen = new AtomicInteger();

    @Override
    public RoutedGeneration map(RoutedGeneration g) {
      if (seen.incrementAndGet() == 30 && failed.compareAndSet(false, true)) {
        throw new IllegalStateException("injected task failure (test)");
      }
      return g;
    }
  }

  private static int generationLines(Path output) throws IOException {
    if (!Files.isDirectory(output)) {
      return 0;
    }
    int n = 0;
    try (Stream<Path> files = Files.list(output)) {
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith("generations-")).toList()) {
        byte[] bytes = Files.readAllBytes(file);
        for (byte b : bytes) {
          n += b == '\n' ? 1 : 0;
        }
      }
    }
    return n;
  }

  /** Every request of {@code requests}, and nothing else, has exactly one generation, equal to the reference. */
  private static void assertEachAnsweredOnceAsTheReference(Path output, List<InferenceRequest> requests) throws Exception {
    Map<String, Integer> counts = countIds(output);
    Set<String> all = new HashSet<>();
    requests.forEach(r -> all.add(r.getRequestId()));
    assertEquals(all, counts.keySet(), "every request answered");
    counts.forEach((id, n) -> assertEquals(1, n, id + " has " + n + " generations"));
    Map<String, JsonNode> generations = CorpusEndToEndTest.byId(CorpusEndToEndTest.lines(output, "generations-"));
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      Map<String, Map.Entry<List<Integer>, String>> expected = reference.generateAll(requests);
      for (InferenceRequest r : requests) {
        CorpusEndToEndTest.assertMatches(expected.get(r.getRequestId()), generations.get(r.getRequestId()),
            r.getRequestId());
      }
    }
  }

  /** How many generation lines each request id has, over every whole line of every generations file. */
  private static Map<String, Integer> countIds(Path output) throws IOException {
    Map<String, Integer> counts = new HashMap<>();
    try (Stream<Path> files = Files.list(output)) {
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith("generations-")).sorted().toList()) {
        String text = Files.readString(file);
        int end = text.lastIndexOf('\n') + 1; // a line the kill cut short is not an answer
        for (String line : text.substring(0, end).split("\n")) {
          if (!line.isBlank()) {
            counts.merge(CorpusEndToEndTest.JSON.readTree(line).get("request_id").asText(), 1, Integer::sum);
          }
        }
      }
    }
    return counts;
  }

  private static Path newestGenerationsFile(Path output) throws IOException {
    try (Stream<Path> files = Files.list(output)) {
      return files.filter(f -> f.getFileName().toString().startsWith("generations-")).sorted().reduce((a, b) -> b)
          .orElseThrow();
    }
  }

  private static long outputFiles(Path output) throws IOException {
    try (Stream<Path> files = Files.list(output)) {
      return files.count();
    }
  }
}
