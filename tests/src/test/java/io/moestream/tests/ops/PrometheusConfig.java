package io.moestream.tests.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Prometheus's files and binaries: the Debian package's {@code prometheus} and {@code promtool}. */
final class PrometheusConfig {
  static final String INSTALL = "apt-get install -y --no-install-recommends prometheus  (Debian/Ubuntu; "
      + "as root, else with sudo; .ci/run does it)";

  private PrometheusConfig() {}

  @SuppressWarnings("unchecked")
  static Map<String, Object> read(Path file) throws Exception {
    return new ObjectMapper(new YAMLFactory()).readValue(file.toFile(), Map.class);
  }

  /** The binary on PATH, or a failure saying how to install it: these tests never skip silently. */
  static Path binary(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return fail("'" + name + "' is not on PATH: install Prometheus with " + INSTALL);
  }

  /** {@code promtool check config}: Prometheus's own validation of a configuration file. */
  static void check(Path config) throws Exception {
    Process promtool = new ProcessBuilder(binary("promtool").toString(), "check", "config", config.toString())
        .redirectErrorStream(true).start();
    String out = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, promtool.waitFor(), "promtool check config " + config + ":\n" + out);
  }
}
