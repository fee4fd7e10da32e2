package io.moestream.tests.ops;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Flink's own metrics the dashboard and the alert rules use, under the names Flink 2.2.1's Prometheus
 * reporter gives them ({@code flink_<scope>_<name>}, scope from the metric group: the JobManager's job
 * group, a task, a task's operator). From {@code org.apache.flink.runtime.metrics.MetricNames},
 * {@code DefaultCheckpointStatsTracker} and the Kafka connector's {@code KafkaSourceReaderMetrics}
 * (5.0.0-2.2); {@code PrometheusScrapeTest} checks each one against a running job's reporter page.
 * Flink 2.x has no {@code fullRestarts} (removed after its 1.x deprecation): {@code numRestarts} counts
 * every restart.
 */
final class FlinkMetrics {
  static final String JOB = "flink_jobmanager_job_";
  static final String TASK = "flink_taskmanager_job_task_";
  static final String OPERATOR = "flink_taskmanager_job_task_operator_";

  /** Prometheus name -> what it is. */
  static final Map<String, String> KNOWN = known();

  private static final Pattern METRIC = Pattern.compile("\\bflink_[A-Za-z0-9_]+");

  private FlinkMetrics() {}

  private static Map<String, String> known() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(JOB + "numRestarts", "restarts of the job since it was submitted (gauge)");
    m.put(JOB + "numberOfCompletedCheckpoints", "checkpoints completed (gauge, a running count)");
    m.put(JOB + "numberOfFailedCheckpoints", "checkpoints failed (gauge, a running count)");
    m.put(JOB + "numberOfInProgressCheckpoints", "checkpoints in progress");
    m.put(JOB + "lastCheckpointDuration", "ms the last completed checkpoint took");
    m.put(JOB + "lastCheckpointSize", "bytes of the last completed checkpoint");
    m.put(TASK + "backPressuredTimeMsPerSecond", "ms per second the task waited for output buffers");
    m.put(TASK + "busyTimeMsPerSecond", "ms per second the task was processing");
    m.put(OPERATOR + "pendingRecords", "Kafka source: records between each reader's position and the partition end");
    return m;
  }

  /** Every name {@code flink_...} in {@code text} (PromQL, a dashboard, a rule file), sorted. */
  static Set<String> namesIn(String text) {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(text);
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }

  /** Of {@code names}, those neither moestream's operators ({@link OperatorMetrics}) nor Flink ({@link #KNOWN}) export. */
  static Set<String> unknown(Set<String> names) {
    Set<String> out = new TreeSet<>(names);
    out.removeAll(OperatorMetrics.byPrometheusName().keySet());
    out.removeAll(KNOWN.keySet());
    return out;
  }
}
