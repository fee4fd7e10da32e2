package io.moestream.tests.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.metrics.MetricNames;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The stack's Prometheus alert rules: loaded by prometheus.yml from the folder the compose file mounts,
 * valid for promtool, naming only metrics moestream or Flink exports, and behaving as their promtool
 * unit tests say (the consumer lag and dead-letter alerts fire above their thresholds after their
 * durations, and not below).
 */
class AlertRulesTest {
  private static final String RULES = "rules/moestream-alerts.yml";
  private static final String RULE_TESTS = "rules/moestream-alerts.test.yml";

  private final ComposeStack stack = ComposeStack.load();
  private final Path prometheusDir = stack.dir.resolve("prometheus");

  @Test
  void prometheusLoadsTheRulesTheComposeFileMounts() throws Exception {
    Map<String, Object> config = PrometheusConfig.read(prometheusDir.resolve("prometheus.yml"));
    assertEquals(List.of(RULES), config.get("rule_files"), "prometheus.yml's rule_files");
    assertTrue(((List<?>) stack.service("prometheus").get("volumes")).contains("./prometheus/rules:/etc/prometheus/rules:ro"),
        "the compose file mounts the rules next to /etc/prometheus/prometheus.yml, where rule_files resolves them");
    promtool("check", "rules", prometheusDir.resolve(RULES));
  }

  @Test
  void rulesNameOnlyMetricsMoestreamOrFlinkExports() throws Exception {
    Map<String, Map<String, Object>> alerts = alerts();
    Set<String> used = FlinkMetrics.namesIn(String.join("\n", alerts.values().stream().map(a -> (String) a.get("expr")).toList()));
    Set<String> unknown = FlinkMetrics.unknown(used);
    assertTrue(unknown.isEmpty(), "the alert rules use metrics neither the operators nor Flink export: " + unknown);

    String lag = (String) alerts.get("MoestreamConsumerLagHigh").get("expr");
    assertTrue(lag.contains(OperatorMetrics.prometheusName(MetricNames.CONSUMER_LAG)) && lag.contains("max by (job_name)"),
        "every subtask reports the whole group's lag: max, not sum: " + lag);
    assertTrue(alerts.get("MoestreamConsumerLagHigh").get("for") != null, "lag alerts only when it lasts");
    String dead = (String) alerts.get("MoestreamDeadLetterRateHigh").get("expr");
    for (String counter : List.of(MetricNames.DEAD_LETTERS_VALIDATE, MetricNames.DEAD_LETTERS_TOKENIZE,
        MetricNames.REQUESTS_GIVEN_UP)) {
      assertTrue(dead.contains("rate(" + OperatorMetrics.prometheusName(counter) + "[5m])"), counter + " in " + dead);
    }
  }

  /** promtool's unit tests of the rules: series in, alerts expected at given times (rules/moestream-alerts.test.yml). */
  @Test
  void alertsFireAsTheirUnitTestsSay() throws Exception {
    String out = promtool("test", "rules", prometheusDir.resolve(RULE_TESTS));
    assertTrue(out.contains("SUCCESS"), out);
    String tests = Files.readString(prometheusDir.resolve(RULE_TESTS));
    for (String alert : alerts().keySet()) {
      assertTrue(tests.contains("alertname: " + alert), "no unit test of " + alert);
    }
  }

  @SuppressWarnings("unchecked")
  private Map<String, Map<String, Object>> alerts() throws Exception {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) PrometheusConfig.read(prometheusDir.resolve(RULES)).get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        out.put((String) rule.get("alert"), rule);
      }
    }
    assertTrue(out.keySet().containsAll(Set.of("MoestreamConsumerLagHigh", "MoestreamDeadLetterRateHigh")), out.keySet().toString());
    return out;
  }

  /** Runs promtool in the rules' folder (rule_files in a test file resolve from there); fails with its output. */
  private static String promtool(String command, String subcommand, Path file) throws Exception {
    Process p = new ProcessBuilder(PrometheusConfig.binary("promtool").toString(), command, subcommand, file.toString())
        .directory(file.getParent().toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), "promtool " + command + " " + subcommand + " " + file + ":\n" + out);
    return out;
  }
}
