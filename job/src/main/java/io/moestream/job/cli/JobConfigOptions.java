package io.moestream.job.cli;

import io.moestream.job.config.JobConfigLoader;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The streaming job's configuration on the command line: the pipeline's options and Kafka's. */
final class JobConfigOptions {
  @Mixin PipelineOptions pipeline;

  @Option(names = "--bootstrap-servers", paramLabel = "<host:port>",
      description = "Kafka bootstrap servers, comma-separated (kafka.bootstrap_servers).")
  String bootstrapServers;

  @Option(names = "--group-id", paramLabel = "<group>",
      description = "Kafka consumer group of the job (kafka.group_id).")
  String groupId;

  @Option(names = "--input-topic", paramLabel = "<topic>", description = "Topic of the requests (kafka.input_topic).")
  String inputTopic;

  @Option(names = "--output-topic", paramLabel = "<topic>",
      description = "Topic of the generations (kafka.output_topic).")
  String outputTopic;

  @Option(names = "--dead-letter-topic", paramLabel = "<topic>",
      description = "Topic of the requests that cannot be answered (kafka.dead_letter_topic).")
  String deadLetterTopic;

  @Option(names = "--input-format", paramLabel = "<format>",
      description = "Wire format of the requests: avro, avro-registry or json (kafka.input_format).")
  String inputFormat;

  @Option(names = "--output-format", paramLabel = "<format>", description = "Wire format of the generations: avro,"
      + " avro-registry or json (kafka.output_format; dead letters follow unless kafka.dead_letter_format is set).")
  String outputFormat;

  @Option(names = "--schema-registry-url", paramLabel = "<url>", description = "The schema registry's"
      + " Confluent-compatible API, for avro-registry (kafka.schema_registry.url).")
  String schemaRegistryUrl;

  /** Defaults, then the file, then these options, then --set; not yet validated. */
  JobConfigLoader loader() {
    return pipeline.layer(JobConfigLoader.defaults(), loader -> {
      PipelineOptions.setIf(loader, "kafka.bootstrap_servers", bootstrapServers);
      PipelineOptions.setIf(loader, "kafka.group_id", groupId);
      PipelineOptions.setIf(loader, "kafka.input_topic", inputTopic);
      PipelineOptions.setIf(loader, "kafka.output_topic", outputTopic);
      PipelineOptions.setIf(loader, "kafka.dead_letter_topic", deadLetterTopic);
      PipelineOptions.setIf(loader, "kafka.input_format", inputFormat);
      PipelineOptions.setIf(loader, "kafka.output_format", outputFormat);
      PipelineOptions.setIf(loader, "kafka.schema_registry.url", schemaRegistryUrl);
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
