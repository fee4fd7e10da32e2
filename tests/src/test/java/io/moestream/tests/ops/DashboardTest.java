package io.moestream.tests.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.operators.metrics.MetricNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provisioned Grafana dashboard: valid JSON whose every query names only metrics moestream
 * ({@link MetricNames}) or Flink ({@link FlinkMetrics}) exports under the reporter's names, is valid
 * PromQL (promtool), covers the panels operators need (checkpoints, restarts and backpressure
 * included) and reaches Prometheus through a datasource variable, never a fixed uid; the provisioning
 * files point at it and at the stack's Prometheus.
 */
class DashboardTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNode DATASOURCE = JSON.createObjectNode().put("type", "prometheus").put("uid", "${datasource}");

  private final ComposeStack stack = ComposeStack.load();
  private final JsonNode dashboard = read(stack.dir.resolve("grafana/dashboards/moestream.json"));

  @Test
  void everyQueriedMetricIsOneMoestreamOrFlinkExports() {
    Set<String> queried = new LinkedHashSet<>();
    for (String expr : queries(true)) {
      queried.addAll(FlinkMetrics.namesIn(expr));
    }
    Set<String> unknown = FlinkMetrics.unknown(queried);
    assertTrue(unknown.isEmpty(), "the dashboard queries metrics neither the operators (MetricNames) nor Flink "
        + "(FlinkMetrics.KNOWN) export: " + unknown);
    for (String required : List.of(MetricNames.GENERATIONS_PER_SECOND, MetricNames.GENERATED_TOKENS_PER_SECOND,
        MetricNames.TIME_TO_FIRST_TOKEN_MS, MetricNames.TIME_PER_OUTPUT_TOKEN_MS, MetricNames.EXPERTS_PER_TOKEN,
        MetricNames.EXPERT_LEVEL, MetricNames.WAITING_REQUESTS, MetricNames.BACKPRESSURED_RATIO,
        MetricNames.EXPERT_TOKENS, MetricNames.CONSUMER_LAG, MetricNames.DEAD_LETTERS_VALIDATE,
        MetricNames.DEAD_LETTERS_TOKENIZE)) {
      assertTrue(queried.contains(OperatorMetrics.prometheusName(required)), "no panel shows " + required);
    }
    // checkpoints, restarts, backpressure: every Flink metric of the documented list has its panel
    for (String flink : FlinkMetrics.KNOWN.keySet()) {
      assertTrue(queried.contains(flink), "no panel shows " + flink + " (" + FlinkMetrics.KNOWN.get(flink) + ")");
    }
  }

  /** Latencies are Flink histograms, i.e. Prometheus summaries: panels pick quantiles. */
  @Test
  void latencyPanelsShowQuantiles() {
    for (String metric : List.of(MetricNames.TIME_TO_FIRST_TOKEN_MS, MetricNames.TIME_PER_OUTPUT_TOKEN_MS)) {
      String expr = queries(false).stream().filter(q -> q.contains(OperatorMetrics.prometheusName(metric) + "{"))
          .findFirst().orElseThrow(() -> new AssertionError("no query of " + metric));
      assertTrue(expr.contains("quantile=~") && expr.contains("by (quantile)"), expr);
    }
  }

  /** The heat map: rows are experts, one panel per layer (repeated over the layer variable). */
  @Test
  void expertHeatMapIsPerLayerAndExpert() {
    JsonNode heatmap = panels().stream().filter(p -> p.path("type").asText().equals("heatmap")).findFirst()
        .orElseThrow(() -> new AssertionError("no heatmap panel"));
    assertEquals("layer", heatmap.path("repeat").asText());
    String expr = heatmap.path("targets").get(0).path("expr").asText();
    assertTrue(expr.contains("sum by (expert) (rate(" + OperatorMetrics.prometheusName(MetricNames.EXPERT_TOKENS)), expr);
    assertTrue(expr.contains("layer=~\"$layer\""), expr);
    Set<String> variables = new HashSet<>();
    dashboard.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
    assertEquals(Set.of("datasource", "job", "layer"), variables);
  }

  /** Every expression parses as PromQL: promtool checks them as recording rules. */
  @Test
  void queriesAreValidPromQl(@TempDir Path tmp) throws Exception {
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    int i = 0;
    for (String expr : queries(false)) {
      String concrete = expr.replace("$job", ".*").replace("$layer", ".*");
      rules.append("      - record: dashboard:query_").append(i++).append('\n')
          .append("        expr: '").append(concrete.replace("'", "''")).append("'\n");
    }
    assertTrue(i >= 10, "the dashboard has " + i + " queries");
    Path file = tmp.resolve("dashboard-rules.yml");
    Files.writeString(file, rules);
    Process promtool = new ProcessBuilder(PrometheusConfig.binary("promtool").toString(), "check", "rules", file.toString())
        .redirectErrorStream(true).start();
    String out = new String(promtool.getInputStream().readAllBytes());
    assertEquals(0, promtool.waitFor(), "promtool check rules on the dashboard's queries:\n" + out + "\n" + rules);
  }

  /**
   * No fixed data source uid: a {@code datasource} variable of type datasource (Prometheus) that every
   * panel, query and query variable names, so the dashboard imports into any Grafana; the stack's
   * provisioned data source is the default one the variable starts with.
   */
  @Test
  void everyPanelUsesTheDatasourceVariable() throws Exception {
    JsonNode variable = null;
    for (JsonNode v : dashboard.path("templating").path("list")) {
      if (v.path("name").asText().equals("datasource")) {
        variable = v;
      } else {
        assertEquals(DATASOURCE, v.path("datasource"), "variable " + v.path("name").asText());
      }
    }
    assertTrue(variable != null, "no datasource variable");
    assertEquals("datasource", variable.path("type").asText());
    assertEquals("prometheus", variable.path("query").asText());
    Set<Integer> ids = new HashSet<>();
    int checked = 0;
    for (JsonNode panel : panels()) {
      String title = panel.path("title").asText();
      assertTrue(ids.add(panel.path("id").asInt()), "duplicate panel id " + panel.path("id"));
      if (!panel.path("type").asText().equals("row")) {
        assertEquals(DATASOURCE, panel.path("datasource"), "panel " + title);
        for (JsonNode t : panel.path("targets")) {
          assertEquals(DATASOURCE, t.path("datasource"), "panel " + title + ", query " + t.path("refId").asText());
          checked++;
        }
      }
    }
    assertTrue(checked >= 10, checked + " queries");
    // nowhere else in the file either (a library panel, an annotation): no uid but the variable's
    for (JsonNode uid : dashboard.findValues("uid")) {
      assertTrue(uid.asText().equals("moestream") || uid.asText().equals("${datasource}"),
          "a fixed uid in the dashboard: " + uid);
    }

    Map<String, Object> provisioned = PrometheusConfig.read(stack.dir.resolve("grafana/provisioning/datasources/prometheus.yml"));
    @SuppressWarnings("unchecked")
    Map<String, Object> source = ((List<Map<String, Object>>) provisioned.get("datasources")).get(0);
    assertEquals("prometheus", source.get("type"));
    assertEquals(true, source.get("isDefault"), "the variable starts at the default data source");
    assertEquals("http://prometheus:9090", source.get("url"), "the compose service and Prometheus's listen port");
    assertTrue(((List<?>) stack.service("prometheus").get("command")).contains("--web.listen-address=0.0.0.0:9090"));
    assertTrue(((List<?>) stack.service("prometheus").get("ports")).contains("127.0.0.1:9090:9090"));
    Map<String, Object> dashboards = PrometheusConfig.read(stack.dir.resolve("grafana/provisioning/dashboards/moestream.yml"));
    @SuppressWarnings("unchecked")
    Map<String, Object> options = (Map<String, Object>) ((List<Map<String, Object>>) dashboards.get("providers")).get(0).get("options");
    assertTrue(((List<?>) stack.service("grafana").get("volumes")).contains("./grafana/dashboards:" + options.get("path") + ":ro"),
        "Grafana's dashboard provider reads the folder the compose file mounts");
  }

  private List<JsonNode> panels() {
    List<JsonNode> out = new ArrayList<>();
    dashboard.path("panels").forEach(out::add);
    return out;
  }

  /** The panels' expressions, and with {@code withVariables} the templating queries too. */
  private List<String> queries(boolean withVariables) {
    List<String> out = new ArrayList<>();
    for (JsonNode panel : panels()) {
      panel.path("targets").forEach(t -> out.add(t.path("expr").asText()));
    }
    if (withVariables) {
      dashboard.path("templating").path("list").forEach(v -> out.add(v.path("query").path("query").asText()));
    }
    return out;
  }

  private static JsonNode read(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (Exception e) {
      throw new AssertionError(file + " is not valid JSON: " + e.getMessage(), e);
    }
  }
}
