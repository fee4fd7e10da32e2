package io.moestream.job.pipebench;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.job.ramp.JobMetricsSampler;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.operators.metrics.WallTime;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The inference operator's wall-time counters ({@link WallTime.Use}, ms, summed over subtasks), its
 * engine steps, and the job's completed checkpoints, read once through Flink's REST API.
 */
record OperatorTimes(Map<WallTime.Use, Double> millis, long steps, long completedCheckpoints, double checkpointAvgMs) {

  static OperatorTimes read(JobMetricsSampler rest, String jobId) throws Exception {
    Map<WallTime.Use, Double> millis = new EnumMap<>(WallTime.Use.class);
    long steps = 0;
    for (WallTime.Use use : WallTime.Use.values()) {
      millis.put(use, 0.0);
    }
    for (JsonNode vertex : rest.rest("/jobs/" + jobId).path("vertices")) {
      String path = "/jobs/" + jobId + "/vertices/" + vertex.get("id").asText() + "/metrics";
      List<String> ids = new ArrayList<>();
      for (JsonNode metric : rest.rest(path)) {
        String id = metric.get("id").asText();
        for (WallTime.Use use : WallTime.Use.values()) {
          if (id.endsWith("." + use.metricName)) {
            ids.add(id);
          }
        }
        if (id.endsWith("." + MetricNames.DECODE_STEPS)) {
          ids.add(id);
        }
      }
      if (ids.isEmpty()) {
        continue;
      }
      for (JsonNode value : rest.rest(path + "?get=" + URLEncoder.encode(String.join(",", ids), StandardCharsets.UTF_8))) {
        String id = value.get("id").asText();
        String name = id.substring(id.lastIndexOf('.') + 1);
        if (name.equals(MetricNames.DECODE_STEPS)) {
          steps += (long) Double.parseDouble(value.get("value").asText());
        }
        for (WallTime.Use use : WallTime.Use.values()) {
          if (use.metricName.equals(name)) {
            millis.merge(use, Double.parseDouble(value.get("value").asText()), Double::sum);
          }
        }
      }
    }
    JsonNode checkpoints = rest.rest("/jobs/" + jobId + "/checkpoints");
    return new OperatorTimes(millis, steps, checkpoints.path("counts").path("completed").asLong(),
        checkpoints.path("summary").path("end_to_end_duration").path("avg").asDouble(Double.NaN));
  }

  /** What happened between {@code earlier} and this reading (the average checkpoint is this reading's). */
  OperatorTimes since(OperatorTimes earlier) {
    Map<WallTime.Use, Double> delta = new EnumMap<>(WallTime.Use.class);
    for (WallTime.Use use : WallTime.Use.values()) {
      delta.put(use, millis.get(use) - earlier.millis.get(use));
    }
    return new OperatorTimes(delta, steps - earlier.steps, completedCheckpoints - earlier.completedCheckpoints, checkpointAvgMs);
  }

  double totalMillis() {
    return millis.values().stream().mapToDouble(Double::doubleValue).sum();
  }
}
