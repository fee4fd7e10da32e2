package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.WeightsMode;
import io.moestream.engine.policy.ExpertPolicy;
import io.moestream.engine.policy.PolicyDriver;
import io.moestream.engine.tokenizer.ChatMessage;
import io.moestream.engine.tokenizer.SpecialTokensInContent;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.job.quality.BatchedAnswers;
import io.moestream.job.quality.Progress;
import io.moestream.job.quality.QualityReport;
import io.moestream.job.quality.QualityRow;
import io.moestream.job.quality.TaskFile;
import io.moestream.job.quality.TaskItem;
import io.moestream.job.quality.TextQuality;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-quality",
    description = {"Scores policies and pruning by held-out task accuracy.",
        "%nEach task prompt is a user message in the model's chat template, answered greedily until end of sequence"
            + " or --max-new-tokens; an answer is correct when the generated text, trimmed, equals the item's answer."
            + " One row per policy and per --prune-experts level (pruned rows run the full policy): per task the"
            + " correct count, accuracy and its 95% Wilson interval; experts_per_token measured on the generated"
            + " tokens; and, on the held-out text, the row's perplexity, KL(full || row) and top-1 agreement as"
            + " eval-quality measures them. One JSON line per row on stdout, or --json and --markdown files."})
final class BenchQualityCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Hugging Face model folder.")
  Path model;

  @Option(names = "--tasks", paramLabel = "<file>",
      description = "JSON lines {\"task\", \"prompt\", \"answer\"}. Default: <dir>/heldout/tasks.jsonl.")
  Path tasks;

  @Option(names = "--text", paramLabel = "<file>",
      description = "Held-out prose for the text metrics. Default: <dir>/heldout/text.txt, skipped when absent.")
  Path text;

  @Option(names = "--policies", defaultValue = "full", paramLabel = "<policies>",
      description = "Comma-separated expert policies, one row each (see --policy elsewhere). Default: ${DEFAULT-VALUE}.")
  String policies;

  @Option(names = "--prune-experts", split = ",", paramLabel = "<n>",
      description = "Comma-separated numbers of experts to keep per layer (needs --expert-profile), one row each.")
  List<Integer> pruneExperts = new ArrayList<>();

  @Option(names = "--expert-profile", paramLabel = "<file>", description = "Expert profile written by profile-experts.")
  Path expertProfile;

  @Option(names = "--items-per-task", defaultValue = "0", paramLabel = "<n>",
      description = "Score the first n items of each task (0: all of them).")
  int itemsPerTask;

  @Option(names = "--max-new-tokens", defaultValue = "16", paramLabel = "<n>",
      description = "Tokens an answer may take at most. Default: ${DEFAULT-VALUE}.")
  int maxNewTokens;

  @Option(names = "--batch", defaultValue = "16", paramLabel = "<n>",
      description = "Items generating together (the answers do not depend on it, the time does)."
          + " Default: ${DEFAULT-VALUE}.")
  int batch;

  @Option(names = "--window", defaultValue = "256", paramLabel = "<n>",
      description = "Text metrics: tokens per independent window. Default: ${DEFAULT-VALUE}.")
  int window;

  @Option(names = "--max-tokens", defaultValue = "0", paramLabel = "<n>",
      description = "Text metrics: use at most this many tokens of the text (0: all of them).")
  int maxTokens;

  @Option(names = "--markdown", paramLabel = "<file>", description = "Write the rows as a Markdown table.")
  Path markdown;

  @Option(names = "--json", paramLabel = "<file>",
      description = "Write all rows as one JSON object (else one JSON line per row on stdout).")
  Path json;

  @Option(names = "--answers", paramLabel = "<file>",
      description = "Write every generated answer as a JSON line (row, task, line, output, correct, truncated).")
  Path answers;

  @Mixin EngineOptionsMixin engineOptions;

  @Override
  public Integer call() throws Exception {
    checkOptions();
    Path tasksFile = tasks != null ? tasks : model.resolve("heldout").resolve("tasks.jsonl");
    List<TaskItem> items = TaskFile.firstPerTask(TaskFile.read(tasksFile), itemsPerTask);
    if (!Tokenizer.isPresent(model)) {
      throw new IllegalArgumentException(model + " has no tokenizer.json" + Tokenizer.absenceNote(model)
          + ": the task prompts are text");
    }
    Tokenizer tokenizer = Tokenizer.load(model);
    if (!tokenizer.hasChatTemplate()) {
      throw new IllegalArgumentException(model + ": tokenizer_config.json has no chat_template for the task prompts");
    }
    ModelConfig config = ModelConfig.read(model);
    List<int[]> prompts = prompts(items, tokenizer, tasksFile, config);
    Path textFile = text != null ? text : model.resolve("heldout").resolve("text.txt");
    int[] textIds = text != null || Files.exists(textFile) ? textIds(textFile, tokenizer) : null;
    List<ExpertPolicy> rowPolicies = PolicyList.parse(policies, "--policies");
    for (ExpertPolicy policy : rowPolicies) {
      policy.expertsPerLayer(config); // a policy that does not fit the model fails before minutes of work
    }
    EngineOptions options = engineOptions.toOptions();
    List<QualityRow> rows = new ArrayList<>();
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (BufferedWriter answersOut = answers == null ? null : Files.newBufferedWriter(answers, StandardCharsets.UTF_8);
        LoadedModel candidate = LoadedModel.load(model, options);
        // the text's reference is the model as the checkpoint stores it, as in eval-quality
        LoadedModel checkpoint = textIds != null && options.weights() != WeightsMode.CHECKPOINT
            ? LoadedModel.load(model, options.withWeights(WeightsMode.CHECKPOINT)) : null) {
      LoadedModel reference = checkpoint != null ? checkpoint : candidate;
      List<QualityRow> policyRows = new ArrayList<>();
      for (ExpertPolicy policy : rowPolicies) {
        new PolicyDriver(candidate.engine(), policy); // no load signals: adaptive stays at its first level
        policyRows.add(generate(candidate, policy.spec(), policy.spec(), null, items, prompts, tokenizer, answersOut));
      }
      candidate.engine().setExpertLevel(null);
      if (textIds != null) {
        List<TextQuality.Candidate> candidates = new ArrayList<>();
        rowPolicies.forEach(policy -> candidates.add(TextQuality.Candidate.of(candidate, policy)));
        policyRows = withText(policyRows, reference, candidates, textIds);
      }
      emit(policyRows, rows, out);
      for (int keep : pruneExperts) {
        try (LoadedModel pruned = PruneOptions.loadPruned(model, options, expertProfile, keep)) {
          QualityRow row = generate(pruned, "prune:" + keep, "full", keep, items, prompts, tokenizer, answersOut);
          List<QualityRow> pruneRow = List.of(row);
          if (textIds != null) {
            pruneRow = withText(pruneRow, reference, List.of(TextQuality.Candidate.of(pruned, null)), textIds);
          }
          emit(pruneRow, rows, out);
        }
      }
    }
    if (json != null) {
      Files.writeString(json, JSON.writerWithDefaultPrettyPrinter()
          .writeValueAsString(QualityReport.json(rows, settings(tasksFile, textIds == null ? null : textFile, options)))
          + "\n");
    }
    if (markdown != null) {
      Files.writeString(markdown, QualityReport.markdown(rows));
    }
    return 0;
  }

  private void checkOptions() {
    requireAtLeast("--max-new-tokens", maxNewTokens, 1);
    requireAtLeast("--batch", batch, 1);
    requireAtLeast("--window", window, 2);
    requireAtLeast("--items-per-task", itemsPerTask, 0);
    requireAtLeast("--max-tokens", maxTokens, 0);
    if (!pruneExperts.isEmpty() && expertProfile == null) {
      throw new IllegalArgumentException("--prune-experts needs --expert-profile FILE");
    }
    if (pruneExperts.isEmpty() && expertProfile != null) {
      throw new IllegalArgumentException("--expert-profile is read only with --prune-experts N[,N...]");
    }
  }

  private static void requireAtLeast(String option, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(option + " must be >= " + min + ", found " + value);
    }
  }

  /** Each item's prompt as a user message in the chat template, with the generation prompt. */
  private List<int[]> prompts(List<TaskItem> items, Tokenizer tokenizer, Path tasksFile, ModelConfig config) {
    List<int[]> prompts = new ArrayList<>(items.size());
    for (TaskItem item : items) {
      int[] ids = tokenizer.encodeChat(List.of(new ChatMessage("user", item.prompt())), true,
          SpecialTokensInContent.TEXT);
      if (ids.length + 1 >= config.maxPositionEmbeddings()) {
        throw new IllegalArgumentException(tasksFile + ":" + item.line() + ": the prompt is " + ids.length
            + " tokens, the model's context " + config.maxPositionEmbeddings());
      }
      prompts.add(ids);
    }
    return prompts;
  }

  private int[] textIds(Path file, Tokenizer tokenizer) throws IOException {
    int[] ids = tokenizer.encode(Files.readString(file, StandardCharsets.UTF_8));
    if (maxTokens > 0 && ids.length > maxTokens) {
      ids = Arrays.copyOf(ids, maxTokens);
    }
    if (ids.length < 2) {
      throw new IllegalArgumentException(file + ": at least 2 tokens are needed, found " + ids.length);
    }
    return ids;
  }

  /** Generates every item's answer on {@code loaded} as its engine is set now, and scores them. */
  private QualityRow generate(LoadedModel loaded, String name, String policy, Integer pruned, List<TaskItem> items,
      List<int[]> prompts, Tokenizer tokenizer, BufferedWriter answersOut) throws IOException {
    Progress progress = new Progress(System.err, name, items.size(), "items");
    BatchedAnswers.Result result =
        BatchedAnswers.run(loaded.engine(), tokenizer, prompts, maxNewTokens, batch, progress);
    progress.finish();
    if (answersOut != null) {
      for (int i = 0; i < items.size(); i++) {
        TaskItem item = items.get(i);
        BatchedAnswers.Answer answer = result.answers().get(i);
        ObjectNode line = JSON.createObjectNode();
        line.put("row", name);
        line.put("task", item.task());
        line.put("line", item.line());
        line.put("output", answer.text());
        line.put("correct", item.isCorrect(answer.text()));
        line.put("truncated", answer.truncated());
        answersOut.write(line.toString());
        answersOut.newLine();
      }
      answersOut.flush();
    }
    Map<String, QualityRow.TaskScore> scores = QualityRow.score(items, result.answers());
    return new QualityRow(name, policy, pruned, engineOptions.toOptions().weights().optionValue(), scores,
        QualityRow.overall(scores), result.generatedTokens(), result.expertsPerToken(), null);
  }

  /** The rows with their text scores: the reference runs once per window for all of them. */
  private List<QualityRow> withText(List<QualityRow> rows, LoadedModel reference,
      List<TextQuality.Candidate> candidates, int[] textIds) {
    String label = rows.size() == 1 ? rows.get(0).name() + ": text" : "text, " + rows.size() + " rows";
    Progress progress = new Progress(System.err, label,
        (long) TextQuality.windows(textIds.length, window, reference) * candidates.size(), "windows");
    List<TextQuality.Result> results = TextQuality.compare(reference, candidates, textIds, window, progress);
    progress.finish();
    List<QualityRow> scored = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      scored.add(rows.get(i).withText(QualityRow.TextScore.of(results.get(i).stats())));
    }
    return scored;
  }

  private void emit(List<QualityRow> done, List<QualityRow> rows, PrintStream out) {
    rows.addAll(done);
    if (json == null) {
      done.forEach(row -> out.println(QualityReport.json(row)));
    }
  }

  private ObjectNode settings(Path tasksFile, Path textFile, EngineOptions options) {
    ObjectNode node = JSON.createObjectNode();
    node.put("model", model.toString());
    node.put("tasks", tasksFile.toString());
    node.put("text", textFile == null ? null : textFile.toString());
    node.put("items_per_task", itemsPerTask);
    node.put("max_new_tokens", maxNewTokens);
    node.put("batch", batch);
    node.put("window", window);
    node.put("max_tokens", maxTokens);
    node.put("weights", options.weights().optionValue());
    return node;
  }
}
