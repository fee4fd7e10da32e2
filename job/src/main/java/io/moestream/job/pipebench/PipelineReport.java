package io.moestream.job.pipebench;

import io.moestream.job.ramp.RampRun;
import io.moestream.operators.metrics.WallTime;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The engine alone against the job on the same requests: throughput and its ratio, whether the answers
 * are the same, where the inference task's wall time went, and latency, with how much of the job's
 * end-to-end time is waiting for the checkpoint that commits the output.
 *
 * @param times the job's operator times over the ramp; null when they could not be read
 */
record PipelineReport(String shape, int maxInFlight, EngineAlone.Result alone, RampRun.Result job,
    OperatorTimes times, Map<String, Double> aloneCpuSeconds, Map<String, Double> jobCpuSeconds) {

  long jobTokens() {
    return job.answers().values().stream().mapToLong(RampRun.Answer::completionTokens).sum();
  }

  /** From the first request sent to the last generation emitted. */
  double jobSeconds() {
    return job.answers().values().stream().mapToDouble(RampRun.Answer::emittedAtS).max().orElse(Double.NaN);
  }

  double aloneTokensPerSecond() {
    return alone.generatedTokens() / alone.seconds();
  }

  double jobTokensPerSecond() {
    return jobTokens() / jobSeconds();
  }

  int identicalAnswers() {
    int same = 0;
    for (RampRun.Answer a : job.answers().values()) {
      EngineAlone.Outcome o = alone.outcomes().get(a.requestId());
      if (o != null && Objects.equals(o.tokenIds(), a.tokenIds())) {
        same++;
      }
    }
    return same;
  }

  String markdown() {
    StringBuilder md = new StringBuilder();
    double ratio = jobTokensPerSecond() / aloneTokensPerSecond();
    md.append(String.format(Locale.ROOT, "%s, %d requests, %d in flight at most%n%n", shape, alone.outcomes().size(),
        maxInFlight));
    md.append("| run | generated tokens | wall (s) | tok/s | vs engine alone | engine steps | ms per step |\n")
        .append("|---|---|---|---|---|---|---|\n");
    md.append(String.format(Locale.ROOT, "| engine alone | %d | %.2f | %.1f | 1.00x | %d | %.1f |%n",
        alone.generatedTokens(), alone.seconds(), aloneTokensPerSecond(), alone.steps(),
        1000 * alone.seconds() / alone.steps()));
    long jobSteps = times == null ? 0 : times.steps();
    md.append(String.format(Locale.ROOT, "| Kafka + Flink job | %d | %.2f | %.1f | **%.2fx** | %s | %s |%n%n",
        jobTokens(), jobSeconds(), jobTokensPerSecond(), ratio, jobSteps == 0 ? "?" : Long.toString(jobSteps),
        jobSteps == 0 ? "?" : String.format(Locale.ROOT, "%.1f",
            times.millis().get(WallTime.Use.ENGINE_STEP) / jobSteps)));
    md.append(String.format(Locale.ROOT, "Answers identical to the engine alone's: %d of %d.%s%n%n",
        identicalAnswers(), job.answers().size(), job.incomplete() == null ? "" : " INCOMPLETE: " + job.incomplete()));
    if (times != null) {
      double total = times.totalMillis();
      md.append("Where the inference task's time went, from just before the first request was sent to after the last"
          + " answer was read (waiting for input includes the last commit wait):\n\n");
      md.append("| use | ms | share |\n|---|---|---|\n");
      for (WallTime.Use use : WallTime.Use.values()) {
        double ms = times.millis().get(use);
        md.append(String.format(Locale.ROOT, "| %s | %.0f | %.1f%% |%n", use.name().toLowerCase(Locale.ROOT)
            .replace('_', ' '), ms, 100 * ms / total));
      }
      md.append(String.format(Locale.ROOT, "%nCheckpoints completed during the run: %d (mean duration %.0f ms).%n%n",
          times.completedCheckpoints(), times.checkpointAvgMs()));
    }
    if (!jobCpuSeconds.isEmpty()) {
      md.append("| CPU seconds by threads (this process) | engine alone | job |\n|---|---|---|\n");
      java.util.Set<String> groups = new java.util.LinkedHashSet<>(jobCpuSeconds.keySet());
      groups.addAll(aloneCpuSeconds.keySet());
      for (String group : groups) {
        if (aloneCpuSeconds.getOrDefault(group, 0.0) < 0.05 && jobCpuSeconds.getOrDefault(group, 0.0) < 0.05) {
          continue;
        }
        md.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f |%n", group, aloneCpuSeconds.getOrDefault(group, 0.0),
            jobCpuSeconds.getOrDefault(group, 0.0)));
      }
      md.append('\n');
    }
    double[] aloneTtft = alone.outcomes().values().stream().mapToDouble(EngineAlone.Outcome::firstTokenAtS).toArray();
    double[] aloneEnd = alone.outcomes().values().stream().mapToDouble(EngineAlone.Outcome::finishedAtS).toArray();
    List<RampRun.Answer> answers = List.copyOf(job.answers().values());
    java.util.Map<String, Double> sentAt = new java.util.HashMap<>();
    job.sent().forEach(s -> sentAt.put(s.requestId(), s.sentAtS()));
    double[] jobTtft = answers.stream().mapToDouble(a -> a.emittedAtS() - (a.totalMs() - a.timeToFirstTokenMs()) / 1e3
        - sentAt.getOrDefault(a.requestId(), 0.0)).toArray();
    double[] jobEmitted = answers.stream().mapToDouble(a -> a.emittedAtS() - sentAt.getOrDefault(a.requestId(), 0.0))
        .toArray();
    double[] jobRead = answers.stream().mapToDouble(a -> a.readAtS() - sentAt.getOrDefault(a.requestId(), 0.0))
        .toArray();
    double[] commitWait = answers.stream().mapToDouble(a -> a.readAtS() - a.emittedAtS()).toArray();
    md.append("| latency (s, from arrival) | p50 | p95 | max |\n|---|---|---|---|\n");
    row(md, "engine alone: first token", aloneTtft);
    row(md, "engine alone: end", aloneEnd);
    row(md, "job: first token", jobTtft);
    row(md, "job: emitted", jobEmitted);
    row(md, "job: visible to a read_committed consumer", jobRead);
    row(md, "job: of which waiting for the commit", commitWait);
    return md.toString();
  }

  private static void row(StringBuilder md, String name, double[] values) {
    double[] sorted = Arrays.stream(values).filter(v -> !Double.isNaN(v)).sorted().toArray();
    md.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f |%n", name, percentile(sorted, 0.5),
        percentile(sorted, 0.95), sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1]));
  }

  private static double percentile(double[] sorted, double q) {
    return sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
  }
}
