package io.moestream.job.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TaskFileTest {
  @TempDir Path dir;

  private static final String ADD = "{\"task\": \"add\", \"prompt\": \"What is 1 + 2?\", \"answer\": \"3\"}";

  private String failure(String... lines) throws Exception {
    Path file = dir.resolve("tasks.jsonl");
    Files.write(file, List.of(lines));
    return assertThrows(IllegalArgumentException.class, () -> TaskFile.read(file)).getMessage();
  }

  @Test
  void readsItemsWithTheirLineNumbers() throws Exception {
    Path file = dir.resolve("tasks.jsonl");
    Files.write(file, List.of(ADD, "", "{\"task\": \"copy\", \"prompt\": \"Copy: a b\", \"answer\": \"a b\"}"));
    List<TaskItem> items = TaskFile.read(file);
    assertEquals(List.of(new TaskItem("add", "What is 1 + 2?", "3", 1), new TaskItem("copy", "Copy: a b", "a b", 3)),
        items);
  }

  @Test
  void aMissingFieldNamesFileLineAndField() throws Exception {
    String message = failure(ADD, ADD, "{\"task\": \"add\", \"prompt\": \"What is 2 + 2?\"}");
    assertEquals(dir.resolve("tasks.jsonl") + ":3: missing \"answer\"", message);
  }

  @Test
  void badJsonNamesFileAndLine() throws Exception {
    String message = failure(ADD, "{\"task\": \"add\", \"prompt\": ");
    assertTrue(message.startsWith(dir.resolve("tasks.jsonl") + ":2: not valid JSON"), message);
  }

  @Test
  void aNumberWhereTextBelongsIsRefused() throws Exception {
    String message = failure("{\"task\": \"add\", \"prompt\": \"What is 1 + 2?\", \"answer\": 3}");
    assertEquals(dir.resolve("tasks.jsonl") + ":1: \"answer\" must be a string, found 3", message);
  }

  @Test
  void firstPerTaskKeepsFileOrderPerTask() {
    List<TaskItem> items = List.of(new TaskItem("a", "p1", "x", 1), new TaskItem("b", "p2", "x", 2),
        new TaskItem("a", "p3", "x", 3), new TaskItem("a", "p4", "x", 4), new TaskItem("b", "p5", "x", 5));
    List<TaskItem> chosen = TaskFile.firstPerTask(items, 2);
    assertEquals(List.of(1, 3, 2, 5), chosen.stream().map(TaskItem::line).toList());
    assertEquals(5, TaskFile.firstPerTask(items, 0).size());
  }

  @Test
  void anAnswerIsCorrectOnlyWhenItsTrimmedTextMatchesExactly() {
    TaskItem item = new TaskItem("add", "What is 1 + 2?", "3", 1);
    assertTrue(item.isCorrect(" 3\n"));
    assertEquals(false, item.isCorrect("3."));
    assertEquals(false, item.isCorrect("33"));
  }
}
