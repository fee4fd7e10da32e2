package io.moestream.job.pipebench;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.job.ramp.JobMetricsSampler;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.operators.metrics.WallTime;
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
    List<String> names = new ArrayList<>();
    for (WallTime.Use use : WallTime.Use.values()) {
      names.add(use.metricName);
    }
    names.add(MetricNames.DECODE_STEPS);
    Map<String, List<Double>> values = rest.operatorMetrics(names);
    Map<WallTime.Use, Double> millis = new EnumMap<>(WallTime.Use.class);
    for (WallTime.Use use : WallTime.Use.values()) {
      millis.put(use, JobMetricsSampler.sum(values, use.metricName));
    }
    long steps = (long) JobMetricsSampler.sum(values, MetricNames.DECODE_STEPS);
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
