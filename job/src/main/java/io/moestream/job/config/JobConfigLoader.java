package io.moestream.job.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

  private final Map<String, Map<String, Object>> tree;

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

  /** Sets one {@code section.field} (a value from the command line or from code). */
  public JobConfigLoader set(String path, Object value) {
    int dot = path.indexOf('.');
    if (dot <= 0 || dot == path.length() - 1 || path.indexOf('.', dot + 1) >= 0) {
      throw new ConfigException(path, "expected section.field");
    }
    String section = path.substring(0, dot);
    String field = path.substring(dot + 1).replace('-', '_');
    Map<String, Object> fields = tree.get(section);
    if (fields == null) {
      throw new ConfigException(path, "unknown section '" + section + "' (known: " + tree.keySet() + ")");
    }
    if (!fields.containsKey(field)) {
      throw new ConfigException(section + "." + field, "unknown field (known in " + section + ": " + fields.keySet() + ")");
    }
    fields.put(field, value);
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
    return JobConfigValidator.validate(new Fields(tree));
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

    Fields(Map<String, Map<String, Object>> tree) {
      this.tree = tree;
    }

    Object raw(String section, String field) {
      return tree.get(section).get(field);
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
