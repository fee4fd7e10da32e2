package io.moestream.operators.registry;

import java.io.Serializable;

/**
 * Where the schema registry is and how subjects are named; travels with the Flink functions, which
 * open their own {@link SchemaRegistryClient} from it (an HTTP client is not serializable).
 *
 * @param url the Confluent-compatible API's base, e.g. {@code http://registry:8080/apis/ccompat/v7}
 *     (Apicurio) or {@code http://registry:8081} (Confluent)
 * @param user HTTP basic auth user; null for none
 * @param password HTTP basic auth password (with user)
 */
public record RegistrySettings(String url, String user, String password, SubjectStrategy subjectStrategy)
    implements Serializable {
  public RegistrySettings {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("url: must be set");
    }
    url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    if (subjectStrategy == null) {
      subjectStrategy = SubjectStrategy.TOPIC;
    }
  }

  /** Without the password: settings end up in logs and exception messages. */
  @Override
  public String toString() {
    return "RegistrySettings[url=" + url + ", user=" + user + ", subjectStrategy=" + subjectStrategy.configName()
        + "]";
  }
}
