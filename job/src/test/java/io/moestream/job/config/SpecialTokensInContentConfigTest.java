package io.moestream.job.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import io.moestream.engine.tokenizer.SpecialTokensInContent;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** model.special_tokens_in_content: text by default, control on request, anything else named. */
class SpecialTokensInContentConfigTest {
  @TempDir Path tmp;

  @Test
  void defaultsToTextAndAcceptsControl() throws Exception {
    Path model = tmp.resolve("model");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 4, 16), model);
    Files.writeString(model.resolve("tokenizer.json"), "{}");
    JobConfigLoader loader = JobConfigLoader.defaults().set("model.dir", model.toString());
    assertEquals(SpecialTokensInContent.TEXT, loader.build().model().specialTokensInContent());
    assertEquals(SpecialTokensInContent.CONTROL,
        loader.set("model.special_tokens_in_content", "control").build().model().specialTokensInContent());
    ConfigException e = assertThrows(ConfigException.class,
        () -> loader.set("model.special_tokens_in_content", "escape").build());
    assertTrue(e.getMessage().startsWith("configuration field 'model.special_tokens_in_content': 'escape' is not"
        + " one of"), e.getMessage());
  }
}
