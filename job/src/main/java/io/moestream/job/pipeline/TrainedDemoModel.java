package io.moestream.job.pipeline;

import io.moestream.engine.format.BundledFiles;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The small Qwen3-MoE that {@code tools/train/train.py} trained on this project's synthetic tasks
 * (tools/train/models/qwen3-moe-tasks, its model card there), carried in the launcher jar: what
 * {@code demo} runs when no model is given. It answers copying, reversing, recalling and sorting questions
 * in the tasks' format and writes a little English; it is not a general assistant.
 */
public final class TrainedDemoModel {
  /** Where the build puts the model folder's files in the launcher jar (job/pom.xml). */
  public static final String RESOURCE = "/io/moestream/job/demo/qwen3-moe-tasks/";
  private static final List<String> FILES = List.of("config.json", "model.safetensors", "tokenizer.json",
      "tokenizer_config.json", "generation_config.json", "README.md");

  /**
   * A question of one of the tasks the model was trained on, with its exact answer.
   *
   * @param task the task's name in the model card (add, sub, sort, reverse, copy, count, recall)
   */
  public record Sample(String task, String question, String answer) {}

  /**
   * The demo's sample questions: the first two held-out items (heldout/tasks.jsonl, never trained on) of
   * each of the four tasks the model answers best (exact match on 1,000 held-out items: reverse 0.999, copy
   * 0.999, recall 0.996, sort 0.790), with the answers the task defines. It answers all eight.
   */
  public static final List<Sample> SAMPLES = List.of(
      new Sample("reverse", "Reverse: v u j x w", "w x j u v"),
      new Sample("copy", "Repeat: y 3 p b 5", "y 3 p b 5"),
      new Sample("recall", "The code for red is 2390. The code for white is 2198. The code for green is 7155."
          + " What is the code for white?", "2198"),
      new Sample("sort", "Sort these words: pilaff cum muffed cobalt", "cobalt cum muffed pilaff"),
      new Sample("reverse", "Reverse: i u v w k 7 r", "r 7 k w v u i"),
      new Sample("copy", "Repeat: v c n l x 0 8 r r 5", "v c n l x 0 8 r r 5"),
      new Sample("recall", "The code for pink is 8009. The code for gray is 7858. The code for green is 8833."
          + " The code for gold is 1389. What is the code for green?", "8833"),
      new Sample("sort", "Sort these words: eighty ensue hinge", "eighty ensue hinge"));

  private TrainedDemoModel() {}

  /** Writes the model's files into {@code dir} (created if missing) and returns it. */
  public static Path write(Path dir) {
    try {
      BundledFiles.copyTo(TrainedDemoModel.class, RESOURCE, FILES, dir);
      return dir;
    } catch (FileNotFoundException e) {
      throw new IllegalStateException("the trained demo model is not in this jar (" + e.getMessage() + "): build the"
          + " launcher jar with `mvn -DskipTests -pl job -am package`, or run the demo with --model <folder> or"
          + " --random-model");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the trained demo model to " + dir, e);
    }
  }
}
