package io.moestream.job.quality;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A held-out tasks file: JSON lines {@code {"task": "add", "prompt": "What is 1 + 2?", "answer": "3"}}
 * (blank lines skipped). A bad line stops the read with the file, the line number and the field, so a
 * benchmark of minutes never starts on a file it would misread.
 */
public final class TaskFile {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] FIELDS = {"task", "prompt", "answer"};

  private TaskFile() {}

  /** Every item of {@code file}, in file order. */
  public static List<TaskItem> read(Path file) throws IOException {
    List<TaskItem> items = new ArrayList<>();
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int lineNumber = 0;
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        lineNumber++;
        if (!line.isBlank()) {
          items.add(parse(file, lineNumber, line));
        }
      }
    }
    if (items.isEmpty()) {
      throw new IllegalArgumentException(file + ": no task items");
    }
    return items;
  }

  static TaskItem parse(Path file, int lineNumber, String line) {
    String where = file + ":" + lineNumber;
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(where + ": not valid JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException(where + ": expected a JSON object, found " + line.strip());
    }
    String[] values = new String[FIELDS.length];
    for (int i = 0; i < FIELDS.length; i++) {
      JsonNode value = node.get(FIELDS[i]);
      if (value == null || value.isNull()) {
        throw new IllegalArgumentException(where + ": missing \"" + FIELDS[i] + "\"");
      }
      if (!value.isTextual()) {
        throw new IllegalArgumentException(where + ": \"" + FIELDS[i] + "\" must be a string, found " + value);
      }
      values[i] = value.asText();
    }
    if (values[0].isBlank()) {
      throw new IllegalArgumentException(where + ": \"task\" is empty");
    }
    return new TaskItem(values[0], values[1], values[2], lineNumber);
  }

  /**
   * The first {@code n} items of each task in file order (all of them when {@code n <= 0}), tasks in the
   * order they first appear: deterministic, so every row and every run scores the same items.
   */
  public static List<TaskItem> firstPerTask(List<TaskItem> items, int n) {
    Map<String, List<TaskItem>> byTask = byTask(items);
    List<TaskItem> chosen = new ArrayList<>();
    for (List<TaskItem> ofTask : byTask.values()) {
      chosen.addAll(n > 0 && ofTask.size() > n ? ofTask.subList(0, n) : ofTask);
    }
    return chosen;
  }

  /** Items grouped by task, tasks in the order they first appear. */
  public static Map<String, List<TaskItem>> byTask(List<TaskItem> items) {
    Map<String, List<TaskItem>> byTask = new LinkedHashMap<>();
    for (TaskItem item : items) {
      byTask.computeIfAbsent(item.task(), t -> new ArrayList<>()).add(item);
    }
    return byTask;
  }
}
