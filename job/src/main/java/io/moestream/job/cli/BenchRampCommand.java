package io.moestream.job.cli;

import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.policy.ExpertPolicy;
import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.ramp.RampReport;
import io.moestream.job.ramp.RampRun;
import io.moestream.job.ramp.RampSchedule;
import io.moestream.job.ramp.RampTasks;
import io.moestream.schemas.InferenceRequest;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-ramp",
    description = {"Runs a load ramp through Kafka and the job, per policy.",
        "%nKafka and the streaming job both run in this process, once per policy. Requests arrive at the --phases"
            + " rates (light, overload, light) and the generations are read back. The arrival rate, throughput,"
            + " experts per token and latency are reported per second (CSV, PNG chart) with a summary per policy"
            + " (markdown): overload throughput and gain over the first policy, the return to the full model, and"
            + " whether light-load answers are identical to the first policy's.",
        "%nWith --tasks the requests are the file's task items instead of fixed prompts, sent as chat with greedy"
            + " decoding; each answer is scored (exact match of the trimmed text) and the summary adds the accuracy"
            + " per policy, phase and task with Wilson 95% intervals and the experts per token of those answers."})
final class BenchRampCommand implements Callable<Integer> {
  @Mixin JobConfigOptions options;

  @Option(names = "--policies", defaultValue = "full,adaptive", paramLabel = "<policies>",
      description = "Expert policies to run, comma-separated, the reference first (the old ';' separator is read"
          + " too). Default: ${DEFAULT-VALUE}.")
  String policies;

  @Option(names = "--phases", defaultValue = "30s@0.5,60s@6,60s@0.5", paramLabel = "<phases>",
      description = "The ramp as SECONDSs@RATE phases, comma-separated (RATE in requests per second)."
          + " Default: ${DEFAULT-VALUE}.")
  String phases;

  @Option(names = "--max-new-tokens", defaultValue = "32", paramLabel = "<n>",
      description = "Tokens each request generates at most. Default: ${DEFAULT-VALUE}.")
  int maxNewTokens;

  @Option(names = "--tasks", paramLabel = "<file>",
      description = "Send these task items instead of the fixed prompts, request n carrying item (n - 1) mod count in"
          + " file order: JSON lines {\"task\": ..., \"prompt\": ..., \"answer\": ...} (a trained model's"
          + " heldout/tasks.jsonl). Each prompt goes as a user chat message, greedy; the answers are scored.")
  Path tasksFile;

  @Option(names = "--drain", defaultValue = "600", paramLabel = "<seconds>",
      description = "Seconds to wait for answers after the last request. Default: ${DEFAULT-VALUE}.")
  long drainSeconds;

  @Option(names = "--csv", paramLabel = "<file>", description = "Write the per-second series to this file, header: "
      + RampReport.CSV_HEADER + ".")
  Path csv;

  @Option(names = "--chart", paramLabel = "<file>",
      description = "Write a PNG chart (arrival rate, throughput, experts per token, latency over time) to this file.")
  Path chart;

  @Option(names = "--markdown", paramLabel = "<file>",
      description = "Write the summary table (also printed on stdout) to this file.")
  Path markdown;

  @Override
  public Integer call() throws Exception {
    if (options.model() == null) {
      throw new IllegalArgumentException("--model is required (a model folder with tokenizer.json)");
    }
    RampSchedule schedule = RampSchedule.parse(phases);
    RampTasks tasks = tasksFile == null ? null : RampTasks.read(tasksFile);
    IntFunction<InferenceRequest> requests = tasks == null ? n -> RampRun.request(n, maxNewTokens)
        : n -> tasks.request(n, maxNewTokens);
    PrintStream log = System.err;
    List<RampRun.Result> results = new ArrayList<>();
    List<String> specs = PolicyList.parse(policies, "--policies").stream().map(ExpertPolicy::spec).toList();
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      options.bootstrapServers = kafka.bootstrapServers();
      for (int i = 0; i < specs.size(); i++) {
        String name = "ramp" + i;
        JobConfig config = LocalBenchCluster.ownTopics(options.loader(), name)
            .set("experts.policy", specs.get(i))
            .build();
        kafka.createTopics(config.flink().parallelism(), config.kafka().inputTopic(), config.kafka().outputTopic(),
            config.kafka().deadLetterTopic());
        LocalBenchCluster cluster = LocalBenchCluster.start(config.flink().parallelism());
        int k = ModelConfig.read(Path.of(config.model().dir())).numExpertsPerTok();
        results.add(RampRun.run(cluster.env(), config, k, schedule, requests, Duration.ofSeconds(drainSeconds),
            log, cluster.restUrl(), job -> { }, job -> { }));
        RampRun.Result result = results.get(results.size() - 1);
        log.println("ramp " + config.experts().policy() + ": "
            + (result.incomplete() == null ? "done" : "INCOMPLETE (" + result.incomplete() + ")"));
      }
    }
    if (results.isEmpty()) {
      return 1;
    }
    RampReport report = new RampReport(results, tasks);
    String table = report.markdown();
    new PrintStream(System.out, true, StandardCharsets.UTF_8).print(table);
    if (markdown != null) {
      Files.writeString(markdown, table);
    }
    if (csv != null) {
      report.writeCsv(csv);
    }
    if (chart != null) {
      report.writeChart(chart, "load ramp " + schedule);
    }
    // what was measured is written either way; an incomplete ramp still fails the command
    return results.stream().anyMatch(r -> r.incomplete() != null) ? 1 : 0;
  }
}
