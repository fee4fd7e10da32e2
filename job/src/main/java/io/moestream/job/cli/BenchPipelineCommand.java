package io.moestream.job.cli;

import io.moestream.engine.model.ModelConfig;
import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipebench.PipelineBench;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-pipeline",
    description = {"Measures what Kafka and Flink cost over the engine alone.",
        "%nThe same requests run through the engine alone (the job's engine options, policy and in-flight cap, all"
            + " requests waiting at once), then through the job (all sent to Kafka at once, answers read back"
            + " read_committed). The report gives both throughputs and their ratio, whether the answers are identical,"
            + " where the inference task's wall time went, checkpoints, and latency: first token, emitted, and visible"
            + " to a read_committed consumer (the commit wait).",
        "%nThe broker runs in this process unless --bootstrap-servers names one (in its own process, as in"
            + " production). The policy is full unless --policy is given, and fixed ones only: adaptive's level"
            + " follows load that the engine alone does not have."})
final class BenchPipelineCommand implements Callable<Integer> {
  @Mixin JobConfigOptions options;

  @Option(names = "--requests", defaultValue = "96", paramLabel = "<n>",
      description = "Requests per run. Default: ${DEFAULT-VALUE}.")
  int requests;

  @Option(names = "--max-new-tokens", defaultValue = "32", paramLabel = "<n>",
      description = "Tokens each request generates at most. Default: ${DEFAULT-VALUE}.")
  int maxNewTokens;

  @Option(names = "--drain", defaultValue = "600", paramLabel = "<seconds>",
      description = "Seconds to wait for the job's answers. Default: ${DEFAULT-VALUE}.")
  long drainSeconds;

  @Option(names = "--markdown", paramLabel = "<file>",
      description = "Write the report (also printed on stdout) to this file.")
  Path markdown;

  @Override
  public Integer call() throws Exception {
    if (options.model() == null) {
      throw new IllegalArgumentException("--model is required (a model folder with tokenizer.json)");
    }
    PrintStream log = System.err;
    String name = "pipebench" + System.currentTimeMillis();
    var loader = LocalBenchCluster.ownTopics(options.loader(), name);
    if (options.pipeline.policy == null) {
      loader.set("experts.policy", "full");
    }
    boolean external = options.bootstrapServers != null;
    EmbeddedKafka embedded = external ? null : EmbeddedKafka.start();
    try {
      if (!external) {
        loader.set("kafka.bootstrap_servers", embedded.bootstrapServers());
      }
      JobConfig config = loader.build();
      TopicClients.createTopics(config.kafka().bootstrapServers(), config.kafka().properties(),
          config.flink().parallelism(),
          config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic());
      LocalBenchCluster cluster = LocalBenchCluster.start(config.flink().parallelism());
      int k = ModelConfig.read(Path.of(config.model().dir())).numExpertsPerTok();
      String report = PipelineBench.run(config, k, requests, maxNewTokens, Duration.ofSeconds(drainSeconds),
          external ? "broker in its own process (" + config.kafka().bootstrapServers() + ")" : "broker in this process",
          log, cluster.env(), cluster.restUrl());
      new PrintStream(System.out, true, StandardCharsets.UTF_8).print(report);
      if (markdown != null) {
        Files.writeString(markdown, report);
      }
      return report.contains("INCOMPLETE") ? 1 : 0;
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
  }
}
