package io.moestream.job.config;

import io.moestream.job.config.JobConfig.Kafka;
import io.moestream.job.config.JobConfig.SchemaRegistry;
import io.moestream.operators.codec.WireFormat;
import io.moestream.operators.registry.SubjectStrategy;
import java.net.URI;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/** The wire-format fields of {@code kafka:} and its {@code schema_registry:} subsection, checked. */
final class WireFormatConfig {
  private static final Set<String> FORMATS =
      Arrays.stream(WireFormat.values()).map(WireFormat::configName).collect(Collectors.toSet());
  private static final Set<String> STRATEGIES =
      Arrays.stream(SubjectStrategy.values()).map(SubjectStrategy::configName).collect(Collectors.toSet());

  private WireFormatConfig() {}

  /** {@code kafka.<field>}: avro, avro-registry or json. */
  static String format(JobConfigLoader.Fields f, String field) {
    return f.oneOf("kafka", field, FORMATS);
  }

  /** {@code kafka.dead_letter_format}; unset: as {@code output_format}. */
  static String deadLetterFormat(JobConfigLoader.Fields f) {
    return f.optionalString("kafka", "dead_letter_format") == null ? format(f, "output_format")
        : format(f, "dead_letter_format");
  }

  /** {@code kafka.schema_registry}; null when its url is unset. */
  static SchemaRegistry registry(JobConfigLoader.Fields f) {
    JobConfigLoader.Fields sub = f.subsection("kafka", "schema_registry");
    String section = "kafka.schema_registry";
    String url = sub.optionalString(section, "url");
    if (url == null) {
      return null;
    }
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(section + ".url", "'" + url + "' is not a URL: " + e.getMessage());
    }
    if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
      throw new ConfigException(section + ".url", "expected http://HOST:PORT/PATH or https://..., found '" + url + "'");
    }
    String user = sub.optionalString(section, "basic_auth_user");
    String password = sub.optionalString(section, "basic_auth_password");
    if (user == null && password != null) {
      throw new ConfigException(section + ".basic_auth_password", "set without basic_auth_user");
    }
    return new SchemaRegistry(url, user, password, sub.oneOf(section, "subject_strategy", STRATEGIES));
  }

  /** A topic in avro-registry format needs the registry. */
  static void checkRegistryNeeded(Kafka kafka) {
    String[][] formats = {{"input_format", kafka.inputFormat()}, {"output_format", kafka.outputFormat()},
        {"dead_letter_format", kafka.deadLetterFormat()}};
    for (String[] f : formats) {
      if (f[1].equals(WireFormat.AVRO_REGISTRY.configName()) && kafka.schemaRegistry() == null) {
        throw new ConfigException("kafka.schema_registry.url", "must be set: kafka." + f[0] + " is avro-registry");
      }
    }
  }
}
