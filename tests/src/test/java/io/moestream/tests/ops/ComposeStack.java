package io.moestream.tests.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * The docker-compose stack as files: the compose file read the way Compose reads it (YAML with
 * anchors and merge keys, {@code ${VAR:-default}} taken from {@code .env}, then the default), and the
 * job's built-in defaults it must agree with.
 */
final class ComposeStack {
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?}");

  final Path root;
  final Path dir;
  final Map<String, String> dotEnv;
  final Map<String, Object> compose;

  private ComposeStack(Path root) {
    this.root = root;
    this.dir = root.resolve("docker-compose");
    this.dotEnv = readDotEnv(dir.resolve(".env"));
    try (Reader reader = Files.newBufferedReader(dir.resolve("docker-compose.yml"))) {
      // SnakeYAML resolves anchors and '<<' merge keys as Compose does.
      this.compose = new Yaml().load(reader);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The stack of this checkout: found from the working directory upwards. */
  static ComposeStack load() {
    Path at = Path.of("").toAbsolutePath();
    while (at != null && !Files.isRegularFile(at.resolve("docker-compose/docker-compose.yml"))) {
      at = at.getParent();
    }
    if (at == null) {
      throw new IllegalStateException("no docker-compose/docker-compose.yml above " + Path.of("").toAbsolutePath());
    }
    return new ComposeStack(at);
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> services() {
    return (Map<String, Object>) compose.get("services");
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> service(String name) {
    Map<String, Object> service = (Map<String, Object>) services().get(name);
    if (service == null) {
      throw new AssertionError("docker-compose.yml has no service '" + name + "' (has " + services().keySet() + ")");
    }
    return service;
  }

  /** A service's environment as a map (Compose allows a map or a list of NAME=value). */
  @SuppressWarnings("unchecked")
  Map<String, String> environment(String name) {
    Object env = service(name).get("environment");
    Map<String, String> out = new LinkedHashMap<>();
    if (env instanceof Map<?, ?> map) {
      map.forEach((k, v) -> out.put(k.toString(), v == null ? "" : interpolate(v.toString())));
    } else if (env instanceof List<?> list) {
      for (Object entry : list) {
        String s = entry.toString();
        int eq = s.indexOf('=');
        out.put(s.substring(0, eq), interpolate(s.substring(eq + 1)));
      }
    }
    return out;
  }

  /** {@code ${VAR:-default}} and {@code ${VAR}} resolved from .env (Compose's own file), else the default. */
  String interpolate(String value) {
    Matcher m = VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String set = dotEnv.get(m.group(1));
      String resolved = set != null && !set.isEmpty() ? set : m.group(2);
      if (resolved == null) {
        throw new AssertionError("docker-compose.yml uses ${" + m.group(1) + "} with no default and .env does not set it");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(resolved));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The job's built-in defaults (the moestream.yaml resource of the job module), section by section. */
  @SuppressWarnings("unchecked")
  static Map<String, Map<String, Object>> jobDefaults() {
    try (InputStream in = io.moestream.job.config.JobConfigLoader.class
        .getResourceAsStream("/io/moestream/job/config/moestream.yaml")) {
      if (in == null) {
        throw new IllegalStateException("the job's moestream.yaml resource is not on the class path");
      }
      return new ObjectMapper(new YAMLFactory()).readValue(in, Map.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String jobDefault(String section, String field) {
    Object value = jobDefaults().get(section).get(field);
    if (value == null) {
      throw new AssertionError("the job's defaults have no " + section + "." + field);
    }
    return value.toString();
  }

  private static Map<String, String> readDotEnv(Path file) {
    Map<String, String> env = new LinkedHashMap<>();
    if (!Files.isRegularFile(file)) {
      return env;
    }
    try {
      for (String line : Files.readAllLines(file)) {
        String s = line.strip();
        if (s.isEmpty() || s.startsWith("#")) {
          continue;
        }
        int eq = s.indexOf('=');
        if (eq <= 0) {
          throw new AssertionError(file + ": not NAME=value: " + line);
        }
        env.put(s.substring(0, eq), s.substring(eq + 1));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return env;
  }
}
