package io.moestream.job.cli;

import io.moestream.job.config.JobConfigLoader;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The streaming job's configuration on the command line: the pipeline's options and Kafka's. */
final class JobConfigOptions {
  @Mixin PipelineOptions pipeline;

  @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers (kafka.bootstrap_servers).")
  String bootstrapServers;

  @Option(names = "--group-id", description = "Kafka consumer group of the job (kafka.group_id).")
  String groupId;

  @Option(names = "--input-topic", description = "kafka.input_topic") String inputTopic;
  @Option(names = "--output-topic", description = "kafka.output_topic") String outputTopic;
  @Option(names = "--dead-letter-topic", description = "kafka.dead_letter_topic") String deadLetterTopic;
  @Option(names = "--input-format", description = "avro or json (kafka.input_format)") String inputFormat;

  /** Defaults, then the file, then these options, then --set; not yet validated. */
  JobConfigLoader loader() {
    return pipeline.layer(JobConfigLoader.defaults(), loader -> {
      PipelineOptions.setIf(loader, "kafka.bootstrap_servers", bootstrapServers);
      PipelineOptions.setIf(loader, "kafka.group_id", groupId);
      PipelineOptions.setIf(loader, "kafka.input_topic", inputTopic);
      PipelineOptions.setIf(loader, "kafka.output_topic", outputTopic);
      PipelineOptions.setIf(loader, "kafka.dead_letter_topic", deadLetterTopic);
      PipelineOptions.setIf(loader, "kafka.input_format", inputFormat);
    });
  }

  /** The model folder given on the command line (null: none). */
  Path model() {
    return pipeline.model;
  }

  void model(Path model) {
    pipeline.model = model;
  }
}
