package io.moestream.job.config;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kafka client properties a user adds to every client the job or a command creates ({@code
 * kafka.properties}, {@code --command-config}): security ({@code security.protocol}, {@code sasl.*},
 * {@code ssl.*}), compression, timeouts. Immutable; built once by {@link #parse}, which resolves
 * {@code ${NAME}} from the environment and refuses the properties the job sets itself, naming the field
 * that controls each. {@link #toString} hides secrets, so the object may be logged.
 */
public final class KafkaClientProperties implements Serializable {
  private static final long serialVersionUID = 1L;

  /** No properties: a plaintext cluster with Kafka's defaults. */
  public static final KafkaClientProperties NONE = new KafkaClientProperties(Map.of(), Set.of());

  /** What the streaming job sets itself on its clients, and where the user controls it instead. */
  public static final Map<String, String> JOB_OWNED = owned(
      "bootstrap.servers", "is kafka.bootstrap_servers",
      "group.id", "is kafka.group_id",
      "transactional.id", "is derived from kafka.transactional_id_prefix",
      "transaction.timeout.ms", "is kafka.transaction_timeout_ms",
      "auto.offset.reset", "is kafka.starting_offsets",
      "isolation.level", "is read_committed: the job reads only committed requests",
      "enable.idempotence", "is set by the exactly-once sinks (Kafka transactions)",
      "acks", "is 'all', which the exactly-once sinks need",
      "enable.auto.commit", "is off: the job commits the oldest unanswered offset itself",
      "commit.offsets.on.checkpoint", "is off: the job commits the oldest unanswered offset itself",
      "client.id", "is set per client by the job (client.id.prefix names the source's consumers)",
      "key.serializer", "is the job's (request ids as UTF-8)",
      "value.serializer", "is the job's (kafka.input_format and the output schemas)",
      "key.deserializer", "is the job's (bytes)",
      "value.deserializer", "is the job's (bytes, decoded by kafka.input_format)");

  /** What {@code produce} and {@code consume} set themselves on their clients. */
  public static final Map<String, String> COMMAND_OWNED = owned(
      "bootstrap.servers", "is --bootstrap-servers",
      "group.id", "is --group-id",
      "isolation.level", "is read_committed: consume prints committed records only",
      "enable.idempotence", "is on: produce writes each request once",
      "acks", "is 'all', which an idempotent producer needs",
      "max.in.flight.requests.per.connection", "is 1 (see TopicClients.producer)",
      "enable.auto.commit", "follows --group-id (commits only for a named group)",
      "auto.offset.reset", "is earliest: consume reads a topic from its start for a new group",
      "key.serializer", "is the command's (request ids as UTF-8)",
      "value.serializer", "is the command's (Avro or JSON bytes, --format)",
      "key.deserializer", "is the command's (bytes)",
      "value.deserializer", "is the command's (bytes, decoded as Avro)");

  /** {@code ${NAME}}: an environment variable. Kafka's own {@code ${provider:path:key}} has a ':' and passes as is. */
  private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
  private static final String HIDDEN = "[hidden]";

  private final Map<String, String> values;
  private final Set<String> fromEnvironment;

  private KafkaClientProperties(Map<String, String> values, Set<String> fromEnvironment) {
    this.values = values;
    this.fromEnvironment = fromEnvironment;
  }

  /**
   * Reads user properties: nested maps are joined with dots ({@code ssl: {truststore: {type: PEM}}} is
   * {@code ssl.truststore.type}), scalars become strings, {@code ${NAME}} is replaced by the environment
   * variable NAME ({@code $${} writes a literal {@code ${}).
   *
   * @param raw a map (YAML) or {@link Properties}; null or empty for none
   * @param fieldPrefix what errors name before the property: where the properties come from ({@code
   *     "kafka.properties."}, {@code "--command-config FILE: "})
   * @param environment where {@code ${NAME}} is looked up ({@code System.getenv()} outside tests)
   * @param owned properties refused, each with the reason ({@link #JOB_OWNED}, {@link #COMMAND_OWNED})
   */
  public static KafkaClientProperties parse(Object raw, String fieldPrefix, Map<String, String> environment,
      Map<String, String> owned) {
    if (raw == null || (raw instanceof String s && s.isBlank())) {
      return NONE;
    }
    if (!(raw instanceof Map<?, ?> map)) {
      throw new ConfigException(fieldPrefix.replaceAll("[.: ]+$", ""),
          "expected a map of Kafka client properties, found '" + raw + "'");
    }
    Map<String, String> flat = new TreeMap<>();
    flatten(map, "", fieldPrefix, flat);
    Map<String, String> values = new LinkedHashMap<>();
    Set<String> fromEnvironment = new LinkedHashSet<>();
    for (Map.Entry<String, String> e : flat.entrySet()) {
      String name = e.getKey();
      String reason = owned.get(name);
      if (reason != null) {
        throw new ConfigException(fieldPrefix + name, "cannot be set here: it " + reason);
      }
      String resolved = resolve(e.getValue(), fieldPrefix + name, environment);
      if (!resolved.equals(e.getValue())) {
        fromEnvironment.add(name);
      }
      values.put(name, resolved);
    }
    return values.isEmpty() ? NONE
        : new KafkaClientProperties(Collections.unmodifiableMap(values), Collections.unmodifiableSet(fromEnvironment));
  }

  private static void flatten(Map<?, ?> map, String prefix, String fieldPrefix, Map<String, String> out) {
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String name = prefix + String.valueOf(e.getKey()).trim();
      Object value = e.getValue();
      if (value instanceof Map<?, ?> nested) {
        flatten(nested, name + ".", fieldPrefix, out);
      } else if (value == null || value instanceof Iterable<?>) {
        throw new ConfigException(fieldPrefix + name, "expected a value (a string, number or boolean), found "
            + (value == null ? "nothing" : "a list " + value + "; Kafka lists are comma-separated strings"));
      } else if (out.put(name, String.valueOf(value)) != null) {
        throw new ConfigException(fieldPrefix + name, "is set twice (once nested, once with dots)");
      }
    }
  }

  /** {@code value} with each {@code ${NAME}} replaced from {@code environment}; an unset NAME fails naming it. */
  static String resolve(String value, String field, Map<String, String> environment) {
    Matcher m = ENV_REFERENCE.matcher(value);
    StringBuilder out = new StringBuilder();
    int last = 0;
    while (m.find()) {
      out.append(value, last, m.start());
      last = m.end();
      if (m.start() > 0 && value.charAt(m.start() - 1) == '$') {
        out.setLength(out.length() - 1); // $${NAME}: a literal ${NAME}
        out.append(m.group());
        continue;
      }
      String resolved = environment.get(m.group(1));
      if (resolved == null) {
        throw new ConfigException(field, "refers to the environment variable " + m.group(1) + ", which is not set");
      }
      out.append(resolved);
    }
    return out.append(value.substring(last)).toString();
  }

  /** Whether a property's value is a secret: never printed or logged. */
  public static boolean isSecret(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.equals("sasl.jaas.config") || n.contains("password") || n.contains("secret") || n.equals("ssl.keystore.key")
        || n.endsWith("basic.auth.user.info");
  }

  /** The properties, resolved (secrets included): for Kafka clients only. */
  public Map<String, String> values() {
    return values;
  }

  public boolean isEmpty() {
    return values.isEmpty();
  }

  /** These properties plus {@code bootstrap.servers}: the whole configuration of a client before its own settings. */
  public Properties with(String bootstrapServers) {
    Properties p = new Properties();
    p.putAll(values);
    p.setProperty("bootstrap.servers", bootstrapServers);
    return p;
  }

  /** The properties with secret values (and every value read from the environment) replaced by [hidden]. */
  public Map<String, String> masked() {
    Map<String, String> out = new LinkedHashMap<>();
    values.forEach((k, v) -> out.put(k, isSecret(k) || fromEnvironment.contains(k) ? HIDDEN : v));
    return out;
  }

  @Override
  public String toString() {
    return masked().toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KafkaClientProperties other && values.equals(other.values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  private static Map<String, String> owned(String... nameThenReason) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < nameThenReason.length; i += 2) {
      out.put(nameThenReason[i], nameThenReason[i + 1]);
    }
    return Collections.unmodifiableMap(out);
  }
}
