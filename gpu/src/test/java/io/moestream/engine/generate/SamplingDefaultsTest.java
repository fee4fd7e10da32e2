package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generation_config.json's sampling defaults fill what a request leaves unset; the request wins. */
class SamplingDefaultsTest {
  @TempDir
  Path dir;

  @Test
  void qwen3StyleFileSamples() throws Exception {
    Files.writeString(dir.resolve("generation_config.json"), "{\"bos_token_id\": 151643, \"do_sample\": true,"
        + " \"eos_token_id\": [151645, 151643], \"temperature\": 0.6, \"top_k\": 20, \"top_p\": 0.95,"
        + " \"repetition_penalty\": 1.05}");
    SamplingDefaults d = SamplingDefaults.read(dir);
    assertEquals(new SamplingParams(0.6f, 0.95f, 20, 7), d.resolve(null, null, null, 7));
    // a value the request sets wins, field by field; explicit greedy stays greedy
    assertEquals(new SamplingParams(0f, 0.95f, 20, 7), d.resolve(0f, null, null, 7));
    assertEquals(new SamplingParams(0.6f, 1f, 0, 7), d.resolve(null, 1f, 0, 7));
  }

  @Test
  void withoutDoSampleTheDefaultIsGreedyAsInTransformers() throws Exception {
    Files.writeString(dir.resolve("generation_config.json"), "{\"temperature\": 0.7, \"top_p\": 0.8}");
    SamplingDefaults d = SamplingDefaults.read(dir);
    assertEquals(new SamplingParams(0f, 0.8f, 0, 1), d.resolve(null, null, null, 1));
    assertEquals(new SamplingParams(0.5f, 0.8f, 0, 1), d.resolve(0.5f, null, null, 1));
  }

  @Test
  void noFileMeansGreedy() {
    assertSame(SamplingDefaults.GREEDY, SamplingDefaults.read(dir));
    assertEquals(SamplingParams.GREEDY, SamplingDefaults.GREEDY.resolve(null, null, null, 0));
  }

  @Test
  void badValuesNameTheFileAndField() throws Exception {
    Path file = dir.resolve("generation_config.json");
    Files.writeString(file, "{\"do_sample\": true, \"top_p\": 1.5}");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SamplingDefaults.read(dir));
    assertTrue(e.getMessage().startsWith(file + ": top_p must be in (0, 1], found 1.5"), e.getMessage());
    Files.writeString(file, "{\"top_k\": \"many\"}");
    e = assertThrows(IllegalArgumentException.class, () -> SamplingDefaults.read(dir));
    assertTrue(e.getMessage().contains(file + ": top_k must be a number, found \"many\""), e.getMessage());
    Files.writeString(file, "{\"top_k\": 2.5}");
    e = assertThrows(IllegalArgumentException.class, () -> SamplingDefaults.read(dir));
    assertTrue(e.getMessage().contains("top_k must be an integer, found 2.5"), e.getMessage());
    Files.writeString(file, "{nope");
    e = assertThrows(IllegalArgumentException.class, () -> SamplingDefaults.read(dir));
    assertTrue(e.getMessage().startsWith(file + ": not valid JSON"), e.getMessage());
  }
}
