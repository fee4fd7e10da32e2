package io.moestream.job.quality;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** bench-quality's rows as JSON (one object per row) and as a Markdown table. */
public final class QualityReport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private QualityReport() {}

  /**
   * {@code {"row", "policy", "prune_experts", "weights", "tasks": {name: score}, "overall": score,
   * "generated_tokens", "experts_per_token", "text_tokens", "ppl", "kl_mean", "top1_agreement"}}, a score
   * being {@code {"correct", "items", "accuracy", "wilson95": [lo, hi], "truncated"}}; the text fields are
   * null when no text was given, prune_experts when the row is not pruned.
   */
  public static ObjectNode json(QualityRow row) {
    ObjectNode node = JSON.createObjectNode();
    node.put("row", row.name());
    node.put("policy", row.policy());
    if (row.pruneExperts() == null) {
      node.putNull("prune_experts");
    } else {
      node.put("prune_experts", row.pruneExperts());
    }
    node.put("weights", row.weights());
    ObjectNode tasks = node.putObject("tasks");
    for (Map.Entry<String, QualityRow.TaskScore> task : row.tasks().entrySet()) {
      tasks.set(task.getKey(), json(task.getValue()));
    }
    node.set("overall", json(row.overall()));
    node.put("generated_tokens", row.generatedTokens());
    node.put("experts_per_token", row.expertsPerToken());
    QualityRow.TextScore text = row.text();
    if (text == null) {
      for (String field : new String[] {"text_tokens", "ppl", "kl_mean", "top1_agreement"}) {
        node.putNull(field);
      }
    } else {
      node.put("text_tokens", text.tokens());
      node.put("ppl", text.ppl());
      node.put("kl_mean", text.klMean());
      node.put("top1_agreement", text.top1Agreement());
    }
    return node;
  }

  private static ObjectNode json(QualityRow.TaskScore score) {
    ObjectNode node = JSON.createObjectNode();
    node.put("correct", score.correct());
    node.put("items", score.items());
    node.put("accuracy", score.accuracy());
    WilsonInterval wilson = score.wilson95();
    ArrayNode interval = node.putArray("wilson95");
    interval.add(wilson.lo());
    interval.add(wilson.hi());
    node.put("truncated", score.truncated());
    return node;
  }

  /** Every row in one object, with the run's settings ({@code settings} is copied in as given). */
  public static ObjectNode json(List<QualityRow> rows, ObjectNode settings) {
    ObjectNode node = settings.deepCopy();
    ArrayNode array = node.putArray("rows");
    rows.forEach(row -> array.add(json(row)));
    return node;
  }

  /**
   * One line per row: experts per token, each task's accuracy with its 95% Wilson interval, all tasks,
   * then the text columns (when there is a text).
   */
  public static String markdown(List<QualityRow> rows) {
    List<String> tasks = List.copyOf(rows.get(0).tasks().keySet());
    boolean text = rows.stream().anyMatch(r -> r.text() != null);
    StringBuilder out = new StringBuilder("| row | experts/token |");
    StringBuilder rule = new StringBuilder("|---|---:|");
    for (String task : tasks) {
      out.append(' ').append(task).append(" |");
      rule.append("---:|");
    }
    out.append(" all |");
    rule.append("---:|");
    if (text) {
      out.append(" ppl | KL(full‖row) | top-1 vs full |");
      rule.append("---:|---:|---:|");
    }
    out.append('\n').append(rule).append('\n');
    for (QualityRow row : rows) {
      out.append("| `").append(row.name()).append("` | ").append(format("%.2f", row.expertsPerToken())).append(" |");
      for (String task : tasks) {
        out.append(' ').append(cell(row.tasks().get(task))).append(" |");
      }
      out.append(' ').append(cell(row.overall())).append(" |");
      if (text) {
        QualityRow.TextScore score = row.text();
        out.append(score == null ? " | | |" : format(" %.3f | %.4f | %.3f |", score.ppl(), score.klMean(),
            score.top1Agreement()));
      }
      out.append('\n');
    }
    out.append("\nAccuracy is exact match of the trimmed greedy answer; [lo, hi] is its 95% Wilson interval.\n");
    return out.toString();
  }

  private static String cell(QualityRow.TaskScore score) {
    if (score == null) {
      return "";
    }
    WilsonInterval wilson = score.wilson95();
    return format("%.3f [%.3f, %.3f]", score.accuracy(), wilson.lo(), wilson.hi());
  }

  private static String format(String pattern, Object... args) {
    return String.format(Locale.ROOT, pattern, args);
  }
}
