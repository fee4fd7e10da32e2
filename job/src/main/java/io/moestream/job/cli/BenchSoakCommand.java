package io.moestream.job.cli;

import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.soak.SoakReport;
import io.moestream.job.soak.SoakRun;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-soak",
    description = {"Soaks the job under overload and checks nothing was lost.",
        "%nKafka and the streaming job both run in this process. The job's capacity is measured, then requests"
            + " arrive open loop at --overload times it for --duration, with bad records mixed in. Heap after GC,"
            + " checkpoints and restarts are sampled, and at the end every request must have been answered exactly"
            + " once and every bad record dead-lettered exactly once.",
        "%nA markdown summary is printed. The exit code is 1 when a request is missing or duplicated, a bad record"
            + " is not dead-lettered once, the job restarted, or checkpoints stopped completing (a gap over 10"
            + " intervals). Without --model it runs the random-weight demo model."})
final class BenchSoakCommand implements Callable<Integer> {
  @Mixin JobConfigOptions options;

  @Option(names = "--rate", defaultValue = "0", paramLabel = "<number>",
      description = "Requests per second during the soak; 0: --overload times the measured capacity."
          + " Default: ${DEFAULT-VALUE}.")
  double rate;

  @Option(names = "--capacity-seconds", defaultValue = "30", paramLabel = "<seconds>",
      description = "How long the capacity is measured, the in-flight window kept full. Default: ${DEFAULT-VALUE}.")
  double capacitySeconds;

  @Option(names = "--duration", defaultValue = "600", paramLabel = "<seconds>",
      description = "Seconds of overload. Default: ${DEFAULT-VALUE}.")
  double durationSeconds;

  @Option(names = "--overload", defaultValue = "3.0", paramLabel = "<number>",
      description = "The arrival rate over the measured capacity. Default: ${DEFAULT-VALUE}.")
  double overload;

  @Option(names = "--deadline", defaultValue = "30", paramLabel = "<seconds>",
      description = "Each request's deadline, seconds after it is sent. Default: ${DEFAULT-VALUE}.")
  long deadlineSeconds;

  @Option(names = "--bad-per-second", defaultValue = "1", paramLabel = "<number>",
      description = "Bad records per second. Default: ${DEFAULT-VALUE}.")
  double badPerSecond;

  @Option(names = "--max-new-tokens", defaultValue = "32", paramLabel = "<n>",
      description = "Tokens each request generates at most. Default: ${DEFAULT-VALUE}.")
  int maxNewTokens;

  @Option(names = "--drain", defaultValue = "120", paramLabel = "<seconds>",
      description = "Seconds to wait, after the last send, for every record to be accounted for."
          + " Default: ${DEFAULT-VALUE}.")
  long drainSeconds;

  @Option(names = "--sample-seconds", defaultValue = "5", paramLabel = "<seconds>",
      description = "Sampling period. Default: ${DEFAULT-VALUE}.")
  double sampleSeconds;

  @Option(names = "--gc-before-sample",
      description = "A full GC before each sample: heap after GC is then the live set (each costs a pause).")
  boolean gcBeforeSample;

  @Option(names = "--csv", paramLabel = "<file>",
      description = "Write the samples to this file, header: " + SoakReport.CSV_HEADER + ".")
  Path csv;

  @Option(names = "--chart", paramLabel = "<file>",
      description = "Write a PNG chart (heap, checkpoints and throughput over time) to this file.")
  Path chart;

  @Option(names = "--markdown", paramLabel = "<file>",
      description = "Write the summary table (also printed on stdout) to this file.")
  Path markdown;

  @Override
  public Integer call() throws Exception {
    if (!(durationSeconds > 0) || !(overload > 0) || rate < 0 || badPerSecond < 0 || deadlineSeconds < 1
        || !(sampleSeconds > 0) || (rate == 0 && !(capacitySeconds >= 3))) {
      throw new IllegalArgumentException("--duration, --overload, --deadline and --sample-seconds must be > 0, --rate"
          + " and --bad-per-second >= 0, --capacity-seconds >= 3 when the capacity is measured");
    }
    PrintStream log = System.err;
    Path given = options.model();
    Path demoModel = null;
    if (given == null) {
      demoModel = Files.createTempDirectory("moestream-soak-model-");
      DemoModel.write(DemoModel.spec(), demoModel);
      log.println("bench-soak: no --model: the random-weight demo model (" + demoModel + ")");
      options.model(demoModel);
    }
    SoakRun.Result result;
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      options.bootstrapServers = kafka.bootstrapServers();
      JobConfig config = LocalBenchCluster.ownTopics(options.loader(), "soak").build();
      kafka.createTopics(config.flink().parallelism(), config.kafka().inputTopic(), config.kafka().outputTopic(),
          config.kafka().deadLetterTopic());
      // checkpoints, restarts and the operator's metrics are read through REST
      LocalBenchCluster cluster = LocalBenchCluster.start(config.flink().parallelism());
      SoakRun.Settings settings = new SoakRun.Settings(rate, capacitySeconds, durationSeconds, overload,
          Duration.ofSeconds(deadlineSeconds), badPerSecond, maxNewTokens, Duration.ofSeconds(drainSeconds),
          Math.round(sampleSeconds * 1000), gcBeforeSample);
      result = SoakRun.run(cluster.env(), config, settings, cluster.restUrl(), log);
    } finally {
      options.model(given);
      if (demoModel != null) {
        try (var paths = Files.walk(demoModel)) {
          paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
    SoakReport report = new SoakReport(result);
    String table = report.markdown();
    new PrintStream(System.out, true, StandardCharsets.UTF_8).print(table);
    if (markdown != null) {
      Files.writeString(markdown, table);
    }
    if (csv != null) {
      report.writeCsv(csv);
    }
    if (chart != null) {
      report.writeChart(chart);
    }
    List<String> failures = report.failures();
    failures.forEach(f -> log.println("bench-soak: FAIL: " + f));
    return failures.isEmpty() ? 0 : 1;
  }
}
