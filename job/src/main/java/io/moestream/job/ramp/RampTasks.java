package io.moestream.job.ramp;

import io.moestream.job.quality.TaskFile;
import io.moestream.job.quality.TaskItem;

import io.moestream.schemas.ChatMessage;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Task items a ramp sends instead of its fixed prompts: a JSON-lines file of
 * {@code {"task": "add", "prompt": "What is 1 + 2?", "answer": "3"}} (a trained model folder's
 * {@code heldout/tasks.jsonl}). Request {@code ramp-<n>} (n from 1) is item {@code (n - 1) mod count}
 * in file order, sent as one user chat message (so the model's chat template applies, as in training)
 * with greedy decoding; its answer is scored by {@link Accuracy#isCorrect}.
 */
public final class RampTasks {
  private static final String ID_PREFIX = "ramp-";

  /** One item: its task's name, the user message, the expected answer. */
  public record Task(String task, String prompt, String answer) {}

  private final Path file;
  private final List<Task> items;

  private RampTasks(Path file, List<Task> items) {
    this.file = file;
    this.items = List.copyOf(items);
  }

  /** Reads {@code file} with {@link TaskFile} (a bad line fails naming the file, the line and the field). */
  public static RampTasks read(Path file) throws IOException {
    List<Task> items = new ArrayList<>();
    for (TaskItem item : TaskFile.read(file)) {
      items.add(new Task(item.task(), item.prompt(), item.answer()));
    }
    return new RampTasks(file, items);
  }

  public Path file() {
    return file;
  }

  public List<Task> items() {
    return items;
  }

  /** The task names in the order they first appear in the file. */
  public List<String> taskNames() {
    LinkedHashSet<String> names = new LinkedHashSet<>();
    items.forEach(t -> names.add(t.task()));
    return List.copyOf(names);
  }

  /** The item request number {@code n} carries (n from 1; 0, the warm-up, carries the last item). */
  public Task item(int n) {
    return items.get(Math.floorMod(n - 1, items.size()));
  }

  /** The item of a request this class made, by its id {@code ramp-<n>}. */
  public Task itemOf(String requestId) {
    if (requestId.startsWith(ID_PREFIX)) {
      try {
        return item(Integer.parseInt(requestId.substring(ID_PREFIX.length())));
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException("request id '" + requestId + "' is not ramp-<n>: not a task request");
  }

  /** Request number {@code n}: item {@link #item}(n) as a user message, greedy, ids as {@link RampRun#request}. */
  public InferenceRequest request(int n, int maxNewTokens) {
    // every sampling value explicit: greedy whatever the model's generation_config.json says
    Sampling greedy = Sampling.newBuilder().setTemperature(0f).setTopP(1f).setTopK(0).build();
    return InferenceRequest.newBuilder().setRequestId(ID_PREFIX + n).setPrompt(null)
        .setMessages(List.of(new ChatMessage("user", item(n).prompt())))
        .setMaxNewTokens(maxNewTokens).setSampling(greedy).build();
  }
}
