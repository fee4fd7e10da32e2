package io.moestream.job.cli;

import io.moestream.job.kafka.TopicClients;
import io.moestream.operators.codec.WireFormat;
import io.moestream.operators.registry.RegistrySettings;
import io.moestream.operators.registry.SubjectStrategy;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.Generation;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "consume",
    description = {"Prints a generations or dead-letter topic as JSON lines.",
        "%nEach record is read whatever its wire format (avro, avro-registry or json, detected per record unless"
            + " --format says). Only committed records are read (isolation.level=read_committed)."})
final class ConsumeCommand implements Callable<Integer> {
  @Option(names = "--bootstrap-servers", required = true, paramLabel = "<host:port>",
      description = "Kafka bootstrap servers, comma-separated.")
  String bootstrapServers;

  @Option(names = "--topic", defaultValue = "moestream.generations", paramLabel = "<topic>",
      description = "Topic to read. Default: ${DEFAULT-VALUE}.")
  String topic;

  @Option(names = "--dead-letters", description = "The topic holds DeadLetter records.")
  boolean deadLetters;

  @Option(names = "--group-id", paramLabel = "<group>",
      description = "Consumer group (default: a new one, reading from the start).")
  String groupId;

  @Option(names = "--max", defaultValue = "0", paramLabel = "<n>",
      description = "Stop after this many records (0: never). Default: ${DEFAULT-VALUE}.")
  int max;

  @Option(names = "--timeout", defaultValue = "0", paramLabel = "<seconds>",
      description = "Stop after this many seconds without a record (0: never). Default: ${DEFAULT-VALUE}.")
  long timeoutSeconds;

  @Mixin CommandConfigOption commandConfig;

  @Option(names = "--format", defaultValue = "auto", paramLabel = "<format>",
      description = "auto ('{' is json, magic byte 0x00 with --schema-registry-url is avro-registry, else avro),"
          + " avro, avro-registry or json. Default: ${DEFAULT-VALUE}.")
  String format;

  @Option(names = "--schema-registry-url", paramLabel = "<url>", description = "The registry's Confluent-compatible"
      + " API, for avro-registry records, e.g. http://HOST:8080/apis/ccompat/v7.")
  String registryUrl;

  @Override
  public Integer call() {
    WireFormat given = format.equalsIgnoreCase("auto") ? null : WireFormat.of(format);
    RegistrySettings registry = registryUrl == null ? null
        : new RegistrySettings(registryUrl, null, null, SubjectStrategy.TOPIC);
    OutputJsonLines<Generation> generations = new OutputJsonLines<>(Generation.class, given, registry);
    OutputJsonLines<DeadLetter> letters = new OutputJsonLines<>(DeadLetter.class, given, registry);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    int seen = 0;
    long quietSince = System.nanoTime();
    try (KafkaConsumer<byte[], byte[]> consumer = TopicClients.committedReader(bootstrapServers, groupId,
        commandConfig.properties())) {
      consumer.subscribe(List.of(topic));
      while (max == 0 || seen < max) {
        var records = consumer.poll(Duration.ofMillis(500));
        for (ConsumerRecord<byte[], byte[]> record : records) {
          out.println(deadLetters ? letters.line(record.value(), record.topic())
              : generations.line(record.value(), record.topic()));
          if (++seen == max) {
            break;
          }
        }
        if (!records.isEmpty()) {
          quietSince = System.nanoTime();
        } else if (timeoutSeconds > 0 && System.nanoTime() - quietSince > timeoutSeconds * 1_000_000_000L) {
          break;
        }
      }
    }
    return 0;
  }
}
