package io.moestream.engine.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/** End-of-sequence ids: config.json's eos_token_id together with generation_config.json's. */
public final class GenerationDefaults {
  public static final String FILE = "generation_config.json";

  private GenerationDefaults() {}

  public static int[] eosTokenIds(Path modelFolder, ModelConfig config) {
    Set<Integer> ids = new LinkedHashSet<>();
    Arrays.stream(config.eosTokenIds()).forEach(ids::add);
    Path generationConfig = modelFolder.resolve(FILE);
    if (Files.isRegularFile(generationConfig)) {
      Arrays.stream(ConfigJson.read(generationConfig).optIntOrList("eos_token_id")).forEach(ids::add);
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }
}
