package io.moestream.operators.registry;

import java.util.Arrays;
import java.util.Locale;

/**
 * Which registry subject a topic's schema is registered under, as Confluent's serializers name them,
 * so that their consumers and producers find the same subjects.
 */
public enum SubjectStrategy {
  /** TopicNameStrategy (Confluent's default): {@code <topic>-value}. */
  TOPIC("topic"),
  /** RecordNameStrategy: the record's full name, e.g. {@code io.moestream.schemas.Generation}. */
  RECORD("record"),
  /** TopicRecordNameStrategy: {@code <topic>-<record full name>}. */
  TOPIC_RECORD("topic-record");

  private final String configName;

  SubjectStrategy(String configName) {
    this.configName = configName;
  }

  public String configName() {
    return configName;
  }

  /** The subject of the value schema {@code recordFullName} on {@code topic}. */
  public String subject(String topic, String recordFullName) {
    return switch (this) {
      case TOPIC -> topic + "-value";
      case RECORD -> recordFullName;
      case TOPIC_RECORD -> topic + "-" + recordFullName;
    };
  }

  /** @throws IllegalArgumentException naming the known strategies */
  public static SubjectStrategy of(String name) {
    String wanted = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    for (SubjectStrategy s : values()) {
      if (s.configName.equals(wanted)) {
        return s;
      }
    }
    throw new IllegalArgumentException("'" + name + "' is not a subject strategy (known: "
        + Arrays.stream(values()).map(SubjectStrategy::configName).toList() + ")");
  }
}
