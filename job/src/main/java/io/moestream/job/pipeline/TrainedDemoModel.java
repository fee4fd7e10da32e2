package io.moestream.job.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The small {@code qwen3_moe} that {@code tools/train} trained on seven chat tasks ({@link DemoTasks};
 * its model card is tools/train/models/qwen3-moe-tasks/README.md): what {@code demo} runs when no
 * model is named. The launcher jar carries the files the engine reads (job/pom.xml copies them at
 * build time; moestream-job.jar leaves them out, as {@code run} has no default model). They are
 * extracted to a folder because the engine maps model.safetensors from a file.
 */
public final class TrainedDemoModel {
  /** Where job/pom.xml's demo-model execution puts the files on the classpath. */
  static final String RESOURCE_DIR = "io/moestream/job/demo-model/";

  /** What the engine reads of the folder; the model card, held-out sets and loss chart stay in tools/train. */
  public static final List<String> FILES = List.of(
      "config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json");

  private TrainedDemoModel() {}

  /** Writes the model's files into {@code dir} (an existing folder) and returns it. */
  public static Path extractTo(Path dir) throws IOException {
    return extract(RESOURCE_DIR, dir);
  }

  static Path extract(String resourceDir, Path dir) throws IOException {
    ClassLoader loader = TrainedDemoModel.class.getClassLoader();
    List<String> missing = FILES.stream().filter(name -> loader.getResource(resourceDir + name) == null).toList();
    if (!missing.isEmpty()) {
      throw new IllegalStateException("this build has no trained demo model: the classpath lacks " + resourceDir
          + String.join(", " + resourceDir, missing) + " (job/pom.xml copies them from"
          + " tools/train/models/qwen3-moe-tasks; rebuild from a checkout that has that folder with"
          + " `mvn -DskipTests -pl job -am package`), or name a model with --model <dir> or --random-model");
    }
    for (String name : FILES) {
      try (InputStream in = loader.getResourceAsStream(resourceDir + name)) {
        Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return dir;
  }
}
