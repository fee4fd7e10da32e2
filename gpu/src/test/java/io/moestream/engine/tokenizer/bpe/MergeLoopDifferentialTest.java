package io.moestream.engine.tokenizer.bpe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The heap-based merge loop (used for long words) is an optimisation of the plain quadratic one
 * (used for short words): both must give the same ids for every word. Checked on the Qwen3 merges
 * for random words of all lengths, including long runs where the two differ most in the work they do.
 */
class MergeLoopDifferentialTest {
  private static BpeModel qwen3;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = new GZIPInputStream(MergeLoopDifferentialTest.class.getResourceAsStream(
        "/io/moestream/engine/tokenizer/qwen3/tokenizer.json.gz"))) {
      JsonNode root = new ObjectMapper().readTree(in);
      qwen3 = BpeModels.fromJson(root.get("model"), true, "qwen3 tokenizer.json: model");
    }
  }

  @Test
  void heapAndQuadraticMergeAgree() {
    Random random = new Random(11);
    String alphabet = "etaoinshrdlu ETAOIN0123456789.,-_'\n\t模型推理专家激活🚀é";
    for (int n = 0; n < 3000; n++) {
      int length = 1 + random.nextInt(n % 10 == 0 ? 400 : 40);
      StringBuilder word = new StringBuilder();
      while (word.length() < length) {
        int at = random.nextInt(alphabet.length());
        int cp = alphabet.codePointAt(Character.isLowSurrogate(alphabet.charAt(at)) ? at - 1 : at);
        word.appendCodePoint(cp);
      }
      int[] symbols = qwen3.initialSymbols(word.toString());
      assertArrayEquals(qwen3.mergeQuadratic(symbols.clone()), qwen3.mergeWithHeap(symbols.clone()),
          () -> "merges of \"" + word + "\"");
    }
  }

  @Test
  void mergesRepeatedPairsLeftToRight() {
    // "    " (four spaces) in byte-level is ĠĠĠĠ; the first rule of Qwen3 is "Ġ Ġ", the second
    // "ĠĠ ĠĠ": the result must be the single four-space token, by either loop.
    int[] symbols = qwen3.initialSymbols("    ");
    int fourSpaces = qwen3.vocabulary().id("ĠĠĠĠ");
    assertArrayEquals(new int[] {fourSpaces}, qwen3.mergeQuadratic(symbols.clone()));
    assertArrayEquals(new int[] {fourSpaces}, qwen3.mergeWithHeap(symbols.clone()));
  }
}
