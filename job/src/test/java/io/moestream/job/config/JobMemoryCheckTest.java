package io.moestream.job.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Submit time: a configuration whose engine cannot fit is refused with the plan's numbers and the fields to change. */
class JobMemoryCheckTest {
  @TempDir Path tmp;
  private String model;

  @BeforeEach
  void writeModel() throws Exception {
    Path dir = tmp.resolve("model");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE), dir);
    Files.writeString(dir.resolve("tokenizer.json"), "{}");
    model = dir.toString();
  }

  @Test
  void aKvCacheLargerThanTheHeapIsRefusedAtSubmit() {
    long tooMuch = (Runtime.getRuntime().maxMemory() >> 20) + 256;
    ConfigException e = assertThrows(ConfigException.class, () -> JobConfigLoader.defaults().set("model.dir", model)
        .set("model.kv_cache_mb", tooMuch).build());
    String message = e.getMessage();
    assertTrue(message.startsWith("configuration field 'model.kv_cache_mb': the model does not fit in memory"), message);
    assertTrue(message.contains(String.format(java.util.Locale.ROOT, "KV cache %,d B", tooMuch << 20)), message);
    assertTrue(message.contains("lower model.kv_cache_mb or model.max_batch_tokens"), message);
    assertTrue(message.contains("verdict: DOES NOT FIT"), message);
  }

  @Test
  void theDefaultsFitAndTheOverrideIsABoolean() {
    JobConfig config = JobConfigLoader.defaults().set("model.dir", model).build();
    assertEquals(false, config.model().allowWeightsOverRam());
    assertEquals(true, JobConfigLoader.defaults().set("model.dir", model).set("model.allow_weights_over_ram", "true")
        .build().model().allowWeightsOverRam());
    ConfigException e = assertThrows(ConfigException.class, () -> JobConfigLoader.defaults().set("model.dir", model)
        .set("model.allow_weights_over_ram", "yes").build());
    assertTrue(e.getMessage().contains("'model.allow_weights_over_ram'"), e.getMessage());
  }

  /** The engine options each subtask gets carry the override to the TaskManagers' own check. */
  @Test
  void engineOptionsCarryTheSection() {
    JobConfig config = JobConfigLoader.defaults().set("model.dir", model).set("model.kv_cache_mb", 32)
        .set("model.max_batch_tokens", 96).set("model.allow_weights_over_ram", true).build();
    var options = JobMemoryCheck.engineOptions(config.model());
    assertEquals(32L << 20, options.kvCacheBytes());
    assertEquals(96, options.maxBatchTokens());
    assertEquals(true, options.allowWeightsOverRam());
  }
}
