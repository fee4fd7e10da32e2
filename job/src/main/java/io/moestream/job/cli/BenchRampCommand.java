package io.moestream.job.cli;

import io.moestream.engine.model.ModelConfig;
import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.ramp.RampReport;
import io.moestream.job.ramp.RampRun;
import io.moestream.job.ramp.RampSchedule;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-ramp", mixinStandardHelpOptions = true,
    description = {"A load ramp through Kafka and the streaming job (both in this process), once per policy:",
        "requests arrive at the --phases rates (light, overload, light), generations are read back, and the",
        "arrival rate, throughput, experts per token and latency are reported per second (CSV, PNG chart)",
        "with a summary per policy (markdown): overload throughput and gain over the first policy, return",
        "to the full model, light-load answers identical to the first policy's."})
final class BenchRampCommand implements Callable<Integer> {
  @Mixin JobConfigOptions options;

  @Option(names = "--policies", defaultValue = "full,adaptive", split = ";",
      description = "Policies to run, ';'-separated, the reference first. Default: ${DEFAULT-VALUE}.")
  List<String> policies;

  @Option(names = "--phases", defaultValue = "30s@0.5,60s@6,60s@0.5",
      description = "SECONDSs@RATE,...: the ramp (requests per second). Default: ${DEFAULT-VALUE}.")
  String phases;

  @Option(names = "--max-new-tokens", defaultValue = "32", description = "Per request. Default: ${DEFAULT-VALUE}.")
  int maxNewTokens;

  @Option(names = "--drain", defaultValue = "600",
      description = "Seconds to wait for answers after the last request. Default: ${DEFAULT-VALUE}.")
  long drainSeconds;

  @Option(names = "--csv", description = "Per-second series, header: " + RampReport.CSV_HEADER) Path csv;
  @Option(names = "--chart", description = "PNG: arrival rate, throughput, experts per token, latency over time.") Path chart;
  @Option(names = "--markdown", description = "The summary table (also printed on stdout).") Path markdown;

  @Override
  public Integer call() throws Exception {
    if (options.model() == null) {
      throw new IllegalArgumentException("--model is required (a model folder with tokenizer.json)");
    }
    RampSchedule schedule = RampSchedule.parse(phases);
    PrintStream log = System.err;
    List<RampRun.Result> results = new ArrayList<>();
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      options.bootstrapServers = kafka.bootstrapServers();
      for (int i = 0; i < policies.size(); i++) {
        String name = "ramp" + i;
        JobConfig config = options.loader()
            .set("experts.policy", policies.get(i).trim())
            .set("kafka.input_topic", name + ".requests").set("kafka.output_topic", name + ".generations")
            .set("kafka.dead_letter_topic", name + ".dead-letters").set("kafka.group_id", name)
            .set("kafka.transactional_id_prefix", name).set("kafka.starting_offsets", "earliest")
            .build();
        kafka.createTopics(config.flink().parallelism(), config.kafka().inputTopic(), config.kafka().outputTopic(),
            config.kafka().deadLetterTopic());
        Configuration conf = new Configuration();
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, config.flink().parallelism());
        int restPort = freePort(); // the job's metrics are read through the REST API, as the dashboard does
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.PORT, restPort);
        // the REST API serves metrics from a store it refreshes every 10 s by default: once a second here
        conf.set(org.apache.flink.configuration.MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, Duration.ofSeconds(1));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        int k = ModelConfig.read(Path.of(config.model().dir())).numExpertsPerTok();
        results.add(RampRun.run(env, config, k, schedule, maxNewTokens, Duration.ofSeconds(drainSeconds), log,
            "http://127.0.0.1:" + restPort, job -> { }));
        log.println("ramp " + config.experts().policy() + ": done");
      }
    }
    RampReport report = new RampReport(results);
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
    return 0;
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
