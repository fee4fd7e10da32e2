package io.moestream.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The demo's questions are the ones its javadoc says: the first held-out item of each task of the
 * trained model, which it never saw in training, with the answer the training tool wrote.
 */
class DemoTasksTest {
  private static final Path HELDOUT = Path.of("..", "tools", "train", "models", "qwen3-moe-tasks", "heldout",
      "tasks.jsonl");

  @Test
  void eachSampleIsTheFirstHeldOutItemOfItsTask() throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    Map<String, JsonNode> firstOfTask = new LinkedHashMap<>();
    for (String line : Files.readAllLines(HELDOUT)) {
      JsonNode item = mapper.readTree(line);
      firstOfTask.putIfAbsent(item.get("task").asText(), item);
    }
    assertEquals(List.copyOf(firstOfTask.keySet()), DemoTasks.SAMPLES.stream().map(DemoTasks.Sample::task).toList(),
        "one sample of each task, in the held-out file's order");
    for (DemoTasks.Sample sample : DemoTasks.SAMPLES) {
      JsonNode item = firstOfTask.get(sample.task());
      assertEquals(item.get("prompt").asText(), sample.question(), sample.task());
      assertEquals(item.get("answer").asText(), sample.answer(), sample.task());
    }
  }
}
