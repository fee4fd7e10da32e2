package io.moestream.job.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the job configuration: the defaults (the {@code moestream.yaml} resource), then a YAML file,
 * then {@code section.field=value} overrides, each layer over the last; then checks every field.
 * Unknown fields, wrong types and bad values fail here, naming the field.
 */
public final class JobConfigLoader {
  static final String DEFAULTS_RESOURCE = "/io/moestream/job/config/moestream.yaml";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** {@code section.field} of the client properties, whose own names hold dots ({@code kafka.properties.sasl.mechanism}). */
  private static final String KAFKA_PROPERTIES = "kafka.properties";

  private final Map<String, Map<String, Object>> tree;
  private Map<String, String> environment = System.getenv();

  private JobConfigLoader(Map<String, Map<String, Object>> tree) {
    this.tree = tree;
  }

  /** Starts from the built-in defaults. */
  public static JobConfigLoader defaults() {
    try (InputStream in = JobConfigLoader.class.getResourceAsStream(DEFAULTS_RESOURCE)) {
      return new JobConfigLoader(sections(YAML.readValue(in, Map.class), "defaults"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Lays a YAML file over the current values. */
  public JobConfigLoader file(Path yaml) {
    if (!Files.isRegularFile(yaml)) {
      throw new ConfigException("--config", "no such file " + yaml);
    }
    Map<?, ?> read;
    try {
      read = YAML.readValue(yaml.toFile(), Map.class);
    } catch (IOException e) {
      throw new ConfigException("--config", "cannot read " + yaml + " as YAML: " + e.getMessage());
    }
    if (read == null) {
      return this;
    }
    sections(read, yaml.toString()).forEach((section, fields) -> fields.forEach((k, v) -> set(section + "." + k, v)));
    return this;
  }

  /**
   * Where {@code ${NAME}} in {@code kafka.properties} values is looked up: {@code System.getenv()} unless
   * a caller (a test in this JVM) gives its own.
   */
  public JobConfigLoader environment(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
    return this;
  }

  /**
   * Sets one {@code section.field}, or one {@code section.subsection.field} (kafka.schema_registry.url),
   * or one client property as {@code kafka.properties.NAME} (NAME may hold dots); a map given for a
   * subsection sets its fields one by one (a value from the command line or code).
   */
  public JobConfigLoader set(String path, Object value) {
    if (path.startsWith(KAFKA_PROPERTIES + ".") && path.length() > KAFKA_PROPERTIES.length() + 1) {
      return setKafkaProperty(path.substring(KAFKA_PROPERTIES.length() + 1), value);
    }
    if (path.equals(KAFKA_PROPERTIES)) {
      // free-form client properties, not a subsection of known fields: the validator reads (and refuses) the value
      tree.get("kafka").put("properties", value);
      return this;
    }
    String[] parts = path.split("\\.", -1);
    if (parts.length < 2 || parts.length > 3 || Arrays.stream(parts).anyMatch(String::isEmpty)) {
      throw new ConfigException(path, "expected section.field (or section.subsection.field)");
    }
    String section = parts[0];
    String field = parts[1].replace('-', '_');
    Map<String, Object> fields = tree.get(section);
    if (fields == null) {
      throw new ConfigException(path, "unknown section '" + section + "' (known: " + tree.keySet() + ")");
    }
    if (!fields.containsKey(field)) {
      throw new ConfigException(section + "." + field, "unknown field (known in " + section + ": " + fields.keySet() + ")");
    }
    if (!(fields.get(field) instanceof Map<?, ?> sub)) {
      if (parts.length == 3) {
        throw new ConfigException(path, section + "." + field + " is a field, not a subsection");
      }
      fields.put(field, value);
      return this;
    }
    if (parts.length == 2) {
      if (!(value instanceof Map<?, ?> given)) {
        throw new ConfigException(path, "is a subsection: expected its fields " + sub.keySet() + ", found '" + value + "'");
      }
      given.forEach((k, v) -> set(path + "." + k, v));
      return this;
    }
    String name = parts[2].replace('-', '_');
    if (!sub.containsKey(name)) {
      throw new ConfigException(section + "." + field + "." + name, "unknown field (known in " + section + "." + field
          + ": " + sub.keySet() + ")");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> writable = (Map<String, Object>) sub;
    writable.put(name, value);
    return this;
  }

  @SuppressWarnings("unchecked")
  private JobConfigLoader setKafkaProperty(String name, Object value) {
    Map<String, Object> kafka = tree.get("kafka");
    Object current = kafka.get("properties");
    Map<Object, Object> properties = current instanceof Map<?, ?> map ? new LinkedHashMap<>((Map<Object, Object>) map)
        : new LinkedHashMap<>();
    properties.put(name, value);
    kafka.put("properties", properties);
    return this;
  }

  /** Applies {@code section.field=value} strings. */
  public JobConfigLoader overrides(Iterable<String> assignments) {
    for (String assignment : assignments) {
      int eq = assignment.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException(assignment, "an override must look like section.field=value");
      }
      set(assignment.substring(0, eq).trim(), assignment.substring(eq + 1).trim());
    }
    return this;
  }

  public JobConfig build() {
    return JobConfigValidator.validate(new Fields(tree, environment));
  }

  /**
   * (numLayers, numExperts): the experts {@code experts.prune_experts} keeps, from the profile, for the
   * model {@code config}; null when the job does not prune.
   */
  public static boolean[][] prunedExperts(JobConfig.Experts experts, io.moestream.engine.model.ModelConfig config) {
    return JobConfigValidator.prunedExperts(experts, config);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Map<String, Object>> sections(Map<?, ?> root, String source) {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : root.entrySet()) {
      String name = String.valueOf(e.getKey());
      if (!(e.getValue() instanceof Map<?, ?> fields)) {
        throw new ConfigException(name, "expected a section of fields in " + source);
      }
      Map<String, Object> copy = new LinkedHashMap<>();
      ((Map<Object, Object>) fields).forEach((k, v) -> copy.put(String.valueOf(k).replace('-', '_'), v));
      out.put(name, copy);
    }
    return out;
  }

  /** Typed reads of the merged tree, with errors that name the field. */
  static final class Fields {
    private final Map<String, Map<String, Object>> tree;
    private final Map<String, String> environment;

    Fields(Map<String, Map<String, Object>> tree, Map<String, String> environment) {
      this.tree = tree;
      this.environment = environment;
    }

    /** Where {@code ${NAME}} references are resolved. */
    Map<String, String> environment() {
      return environment;
    }

    Object raw(String section, String field) {
      return tree.get(section).get(field);
    }

    /** The fields of the subsection {@code section.field}, read as the section "section.field". */
    @SuppressWarnings("unchecked")
    Fields subsection(String section, String field) {
      Object sub = raw(section, field);
      if (!(sub instanceof Map<?, ?> map)) {
        throw new ConfigException(section + "." + field, "expected a subsection of fields, found '" + sub + "'");
      }
      return new Fields(Map.of(section + "." + field, (Map<String, Object>) map), environment);
    }

    String string(String section, String field) {
      Object v = raw(section, field);
      if (v == null || String.valueOf(v).isBlank()) {
        throw new ConfigException(section + "." + field, "must be set");
      }
      return String.valueOf(v).trim();
    }

    String optionalString(String section, String field) {
      Object v = raw(section, field);
      return v == null || String.valueOf(v).isBlank() ? null : String.valueOf(v).trim();
    }

    String oneOf(String section, String field, Set<String> allowed) {
      String v = string(section, field).toLowerCase(java.util.Locale.ROOT);
      if (!allowed.contains(v)) {
        throw new ConfigException(section + "." + field, "'" + v + "' is not one of " + allowed);
      }
      return v;
    }

    /**
     * A list of names: a YAML list, or one string of comma-separated names (what --set gives); blank
     * entries are errors, an empty list or string is no names.
     */
    List<String> list(String section, String field) {
      Object v = raw(section, field);
      List<?> items;
      if (v == null) {
        items = List.of();
      } else if (v instanceof List<?> l) {
        items = l;
      } else {
        String text = String.valueOf(v).trim();
        items = text.isEmpty() ? List.of() : List.of(text.split(",", -1));
      }
      List<String> names = new ArrayList<>();
      for (Object item : items) {
        String name = item == null ? "" : String.valueOf(item).trim();
        if (name.isEmpty() || item instanceof Map<?, ?> || item instanceof List<?>) {
          throw new ConfigException(section + "." + field, "expected a list of names, found '" + v + "'");
        }
        names.add(name);
      }
      return List.copyOf(names);
    }

    boolean bool(String section, String field) {
      Object v = raw(section, field);
      if (v instanceof Boolean b) {
        return b;
      }
      String text = String.valueOf(v).trim().toLowerCase(java.util.Locale.ROOT);
      if (!text.equals("true") && !text.equals("false")) {
        throw new ConfigException(section + "." + field, "expected true or false, found '" + v + "'");
      }
      return text.equals("true");
    }

    double decimal(String section, String field, double min, double max) {
      Object v = raw(section, field);
      double d;
      if (v instanceof Number number) {
        d = number.doubleValue();
      } else {
        try {
          d = Double.parseDouble(String.valueOf(v).trim());
        } catch (NumberFormatException e) {
          throw new ConfigException(section + "." + field, "expected a number, found '" + v + "'");
        }
      }
      if (!(d >= min && d <= max)) {
        throw new ConfigException(section + "." + field, "must be in [" + min + ", " + max + "], found " + v);
      }
      return d;
    }

    long integer(String section, String field, long min, long max) {
      Object v = raw(section, field);
      long n;
      if (v instanceof Number number && !(v instanceof Double || v instanceof Float)) {
        n = number.longValue();
      } else {
        try {
          n = Long.parseLong(String.valueOf(v).trim());
        } catch (NumberFormatException e) {
          throw new ConfigException(section + "." + field, "expected an integer, found '" + v + "'");
        }
      }
      if (n < min || n > max) {
        throw new ConfigException(section + "." + field, "must be in [" + min + ", " + max + "], found " + n);
      }
      return n;
    }
  }
}
