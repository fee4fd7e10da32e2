package io.moestream.job.quality;

import io.moestream.engine.policy.QualityStats;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One row of bench-quality: the model under one policy or pruning level, its accuracy per task and
 * overall, the experts its generated tokens used, and how far it strays from the full model on the text.
 *
 * @param name the row's label: the policy's spec, or {@code prune:N}
 * @param pruneExperts experts kept per layer, null when not pruned
 * @param tasks per task, in the tasks file's order
 * @param text null when no text was given
 */
public record QualityRow(String name, String policy, Integer pruneExperts, String weights,
    Map<String, TaskScore> tasks, TaskScore overall, long generatedTokens, double expertsPerToken, TextScore text) {

  /**
   * @param truncated items that hit max new tokens (or the context) before end of sequence: many of
   *     them means --max-new-tokens is too small for the task
   */
  public record TaskScore(int correct, int items, int truncated) {
    public double accuracy() {
      return items == 0 ? Double.NaN : correct / (double) items;
    }

    public WilsonInterval wilson95() {
      return WilsonInterval.of95(correct, items);
    }

    TaskScore plus(TaskScore other) {
      return new TaskScore(correct + other.correct, items + other.items, truncated + other.truncated);
    }
  }

  /**
   * Teacher-forced on the held-out text against the full model.
   *
   * @param klMean KL(full || row) of the next-token distribution, nats, over every position with a next token
   */
  public record TextScore(int tokens, double ppl, double klMean, double top1Agreement) {
    public static TextScore of(QualityStats stats) {
      return new TextScore(stats.count(), stats.perplexityEvaluated(), stats.klMean(), stats.top1Agreement());
    }
  }

  /** Scores answers against their items, both in the same order. */
  public static Map<String, TaskScore> score(List<TaskItem> items, List<BatchedAnswers.Answer> answers) {
    if (items.size() != answers.size()) {
      throw new IllegalArgumentException(items.size() + " items but " + answers.size() + " answers");
    }
    Map<String, TaskScore> tasks = new LinkedHashMap<>();
    for (int i = 0; i < items.size(); i++) {
      TaskItem item = items.get(i);
      BatchedAnswers.Answer answer = answers.get(i);
      TaskScore one = new TaskScore(item.isCorrect(answer.text()) ? 1 : 0, 1, answer.truncated() ? 1 : 0);
      tasks.merge(item.task(), one, TaskScore::plus);
    }
    return tasks;
  }

  /** All tasks together. */
  public static TaskScore overall(Map<String, TaskScore> tasks) {
    return tasks.values().stream().reduce(new TaskScore(0, 0, 0), TaskScore::plus);
  }

  /** This row with its text score. */
  public QualityRow withText(TextScore score) {
    return new QualityRow(name, policy, pruneExperts, weights, tasks, overall, generatedTokens, expertsPerToken, score);
  }
}
