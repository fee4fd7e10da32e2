package io.moestream.job.cli;

import io.moestream.job.config.ConfigException;
import io.moestream.job.config.KafkaClientProperties;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * {@code --command-config FILE}: Kafka client properties for a command's clients, a Java properties
 * file as Kafka's own console tools take it ({@code security.protocol}, {@code sasl.*}, {@code ssl.*},
 * ...). {@code ${NAME}} in a value is the environment variable NAME, so the file need not hold the
 * password.
 */
final class CommandConfigOption {
  @Option(names = "--command-config", paramLabel = "<file>",
      description = "Kafka client properties (a Java properties file, as kafka-console-producer's): security.protocol,"
          + " sasl.*, ssl.*, ...; $${NAME} in a value is the environment variable NAME.")
  Path file;

  /** The file's properties (none without the option), read and checked with the process's environment. */
  KafkaClientProperties properties() {
    return properties(System.getenv());
  }

  KafkaClientProperties properties(Map<String, String> environment) {
    if (file == null) {
      return KafkaClientProperties.NONE;
    }
    String field = "--command-config " + file;
    if (!Files.isRegularFile(file)) {
      throw new ConfigException(field, "no such file");
    }
    Properties read = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      read.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException(field, "cannot read it as a Java properties file: " + e.getMessage());
    }
    return KafkaClientProperties.parse(read, field + ": ", environment, KafkaClientProperties.COMMAND_OWNED);
  }
}
