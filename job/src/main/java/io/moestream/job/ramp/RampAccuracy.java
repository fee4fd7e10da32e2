package io.moestream.job.ramp;

import io.moestream.job.ramp.RampRun.Answer;
import io.moestream.job.ramp.RampRun.Result;
import io.moestream.job.ramp.RampRun.Sent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Task accuracy of ramps sent with {@link RampTasks}: every answered request scored against its item,
 * grouped by the phase it was sent in (light, overload, light-after) and by task, with the experts per
 * token those answers ran on. Requests still unanswered when a ramp stopped are counted as sent, not
 * scored; an answer that ended in an error has no text and scores as wrong.
 */
final class RampAccuracy {
  /** {@link PhaseAccuracy#phase} of the row over the whole ramp. */
  static final int ALL_PHASES = -1;

  /**
   * One phase of one run ({@code phase} {@link #ALL_PHASES}: all of them).
   *
   * @param byTask every task of the file, in file order ({@link Accuracy#NONE} when none was sent)
   * @param expertsPerToken mean routed experts per token of the scored answers, weighted by their
   *     generated tokens; NaN when they generated none
   */
  record PhaseAccuracy(int phase, String label, int sent, Map<String, Accuracy> byTask, Accuracy overall,
      double expertsPerToken) {}

  private RampAccuracy() {}

  /** The rows of one run: one per phase of its schedule, then {@link #ALL_PHASES}. */
  static List<PhaseAccuracy> of(Result run, RampTasks tasks) {
    List<RampSchedule.Phase> phases = run.schedule().phases();
    List<PhaseAccuracy> rows = new ArrayList<>();
    for (int p = 0; p < phases.size(); p++) {
      rows.add(score(run, tasks, p, label(run.schedule(), p)));
    }
    rows.add(score(run, tasks, ALL_PHASES, "all phases"));
    return rows;
  }

  private static PhaseAccuracy score(Result run, RampTasks tasks, int phase, String label) {
    Map<String, Accuracy> byTask = new LinkedHashMap<>();
    tasks.taskNames().forEach(name -> byTask.put(name, Accuracy.NONE));
    Accuracy overall = Accuracy.NONE;
    int sent = 0;
    double tokens = 0;
    double expertTokens = 0;
    for (Sent s : run.sent()) {
      if (phase != ALL_PHASES && s.phase() != phase) {
        continue;
      }
      sent++;
      Answer a = run.answers().get(s.requestId());
      if (a == null) {
        continue;
      }
      RampTasks.Task item = tasks.itemOf(s.requestId());
      boolean correct = Accuracy.isCorrect(a.text(), item.answer());
      byTask.compute(item.task(), (k, v) -> v.plus(correct));
      overall = overall.plus(correct);
      tokens += a.completionTokens();
      expertTokens += a.expertsMean() * a.completionTokens();
    }
    return new PhaseAccuracy(phase, label, sent, byTask, overall, tokens == 0 ? Double.NaN : expertTokens / tokens);
  }

  /**
   * "light", "overload" or "light-after" by the phase's place around the busiest one, with its
   * spec: {@code overload 60s@6}.
   */
  static String label(RampSchedule schedule, int phase) {
    int busiest = schedule.busiestPhase();
    String role = phase < busiest ? "light" : phase == busiest ? "overload" : "light-after";
    return role + " " + new RampSchedule(List.of(schedule.phases().get(phase)));
  }

  /** The summary column's header: {@code task accuracy (light / overload / light-after)}. */
  static String byPhaseHeader(RampSchedule schedule) {
    List<String> roles = new ArrayList<>();
    for (int p = 0; p < schedule.phases().size(); p++) {
      roles.add(label(schedule, p).split(" ")[0]);
    }
    return "task accuracy (" + String.join(" / ", roles) + ")";
  }

  /** A summary cell: the phases' accuracies, {@code 0.80 / 0.35 / 0.78}. */
  static String byPhaseCell(List<PhaseAccuracy> rows) {
    List<String> parts = new ArrayList<>();
    for (PhaseAccuracy row : rows) {
      if (row.phase() != ALL_PHASES) {
        parts.add(rate(row.overall()));
      }
    }
    return String.join(" / ", parts);
  }

  /** The table of every run's rows: overall and per-task accuracy with their intervals, experts per token. */
  static String markdown(List<Result> runs, RampTasks tasks) {
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "%nTask accuracy (%s, %d items): exact match of the trimmed answer,"
        + " correct/scored, [Wilson 95%% interval]; scored = answered; experts/token of the scored answers.%n%n",
        tasks.file().getFileName(), tasks.items().size()));
    md.append("| policy | phase | sent | scored | accuracy | experts/token |");
    StringBuilder rule = new StringBuilder("|---|---|---|---|---|---|");
    for (String name : tasks.taskNames()) {
      md.append(' ').append(name).append(" |");
      rule.append("---|");
    }
    md.append('\n').append(rule).append('\n');
    for (Result run : runs) {
      for (PhaseAccuracy row : of(run, tasks)) {
        md.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %s | %s |", run.policy(), row.label(), row.sent(),
            row.overall().scored(), cell(row.overall()),
            Double.isNaN(row.expertsPerToken()) ? "-" : String.format(Locale.ROOT, "%.2f", row.expertsPerToken())));
        for (Accuracy a : row.byTask().values()) {
          md.append(' ').append(cell(a)).append(" |");
        }
        md.append('\n');
      }
    }
    return md.toString();
  }

  private static String rate(Accuracy a) {
    return a.scored() == 0 ? "-" : String.format(Locale.ROOT, "%.2f", a.rate());
  }

  /** {@code 0.43 (3/7) [0.16, 0.75]}; "-" when nothing was scored. */
  private static String cell(Accuracy a) {
    return a.scored() == 0 ? "-" : String.format(Locale.ROOT, "%.2f (%d/%d) [%.2f, %.2f]", a.rate(), a.correct(),
        a.scored(), a.wilsonLow(), a.wilsonHigh());
  }
}
