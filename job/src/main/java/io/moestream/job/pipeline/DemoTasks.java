package io.moestream.job.pipeline;

import java.util.List;

/**
 * The chat tasks the trained demo model ({@link TrainedDemoModel}) knows, one sample question of
 * each: what {@code demo} asks, as a user message rendered with the model's chat template. Each is
 * the first held-out item of its task in tools/train/models/qwen3-moe-tasks/heldout/tasks.jsonl,
 * which the model never saw in training (tools/train/data.py draws them with their own seed);
 * DemoTasksTest checks that they still are.
 */
public final class DemoTasks {
  /** A question and the one answer that is right, as the training data phrases both. */
  public record Sample(String task, String question, String answer) {}

  public static final List<Sample> SAMPLES = List.of(
      new Sample("add", "What is 120 + 574?", "694"),
      new Sample("sub", "What is 689 - 512?", "177"),
      new Sample("sort", "Sort these words: pilaff cum muffed cobalt", "cobalt cum muffed pilaff"),
      new Sample("reverse", "Reverse: v u j x w", "w x j u v"),
      new Sample("copy", "Repeat: y 3 p b 5", "y 3 p b 5"),
      new Sample("count", "How many times does a appear in: b c f a c b h b e d e?", "1"),
      new Sample("recall", "The code for red is 2390. The code for white is 2198. The code for green is 7155."
          + " What is the code for white?", "2198"));

  private DemoTasks() {}
}
