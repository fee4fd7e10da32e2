package io.moestream.tests.ops;

import io.moestream.operators.metrics.MetricNames;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The Prometheus names Flink's reporter gives the operators' metrics: {@link MetricNames#prometheusName}
 * for metrics on the operator group; for metrics inside a key/value group
 * ({@code addGroup("layer", "3")}) Flink adds the group's KEY to the name as well
 * ({@code GenericKeyMetricGroup} joins the logical scope, the value becomes a label), so per-layer
 * metrics are {@code ..._operator_layer_<name>} and per-expert ones {@code ..._operator_layer_expert_<name>}.
 */
final class OperatorMetrics {
  private static final Set<String> GROUP_KEYS = Set.of(MetricNames.LAYER_GROUP, MetricNames.EXPERT_GROUP);

  private OperatorMetrics() {}

  /** Every metric constant of MetricNames (group keys excluded), by its Prometheus name. */
  static Map<String, String> byPrometheusName() {
    Map<String, String> names = new LinkedHashMap<>();
    for (Field field : MetricNames.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
        try {
          String metric = (String) field.get(null);
          if (!GROUP_KEYS.contains(metric)) {
            names.put(prometheusName(metric), field.getName());
          }
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return names;
  }

  /** The name Prometheus sees for a metric of MetricNames. */
  static String prometheusName(String metric) {
    String base = MetricNames.prometheusName(metric);
    String prefix = base.substring(0, base.length() - metric.length());
    if (metric.equals(MetricNames.LAYER_EXPERTS_PER_TOKEN)) {
      return prefix + MetricNames.LAYER_GROUP + "_" + metric;
    }
    if (metric.equals(MetricNames.EXPERT_TOKENS)) {
      return prefix + MetricNames.LAYER_GROUP + "_" + MetricNames.EXPERT_GROUP + "_" + metric;
    }
    if (metric.equals(MetricNames.OUTPUT_RECORDS_CUT)) {
      // registered by the sinks' value schema, on the group Flink gives serialization schemas: "user"
      return prefix + "user_" + metric;
    }
    return base;
  }
}
