package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Inputs that make backtracking regexes or quadratic merge loops blow up (long whitespace runs,
 * long punctuation runs, 100k CJK characters without a space, which the pre-tokenizer keeps as one
 * word) encode in well under the timeout and still round-trip. Each takes under a second here.
 */
class LongInputTest {
  private static final Duration LIMIT = Duration.ofSeconds(20);

  private static String cjk(int count) {
    Random random = new Random(1);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < count; i++) {
      out.appendCodePoint(0x4E00 + random.nextInt(20000));
    }
    return out.toString();
  }

  private static String random(String alphabet, int count, long seed) {
    Random random = new Random(seed);
    StringBuilder out = new StringBuilder(count);
    for (int i = 0; i < count; i++) {
      out.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return out.toString();
  }

  /**
   * 256 Ki characters that the pre-tokenizers keep as one word (or that the SentencePiece-style
   * tokenizers, which have no pre-tokenizer splitting digits or letters, see as one word), runs of
   * added-token prefixes, and one letter with 256 Ki combining marks of alternating classes (which
   * the JDK's NFC used to sort quadratically: 50 s for Qwen3). Each takes about a second or less.
   */
  @Test
  void quarterMebibyteWordsEncodeInBoundedTime() {
    int n = 256 * 1024;
    String[] inputs = {"a".repeat(n), random("abcdefghijklmnopqrstuvwxyz", n, 1),
        random("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", n, 2), "中".repeat(n),
        "1".repeat(n), random("0123456789", n, 3), "<|".repeat(n / 2), "<｜".repeat(n / 2),
        "<｜place▁holder▁no▁".repeat(n / 18), "a" + "\u0301\u0316".repeat(n / 2),
        "\u00e9".repeat(n), "\uD83D\uDE00".repeat(n / 2), "! ".repeat(n / 2)};
    for (String name : new String[] {"qwen3", "deepseek_v3", "sentencepiece_bpe", "metaspace_bpe"}) {
      Tokenizer tokenizer = TestTokenizers.named(name);
      for (String input : inputs) {
        int[] ids = assertTimeoutPreemptively(LIMIT, () -> tokenizer.encode(input),
            () -> name + " on " + input.substring(0, 8) + "...");
        assertTrue(ids.length > 0);
      }
    }
  }

  @Test
  void pathologicalRunsEncodeQuickly() {
    String[] inputs = {" ".repeat(200_000) + "a", "!".repeat(200_000), "a".repeat(200_000),
        "\n ".repeat(100_000) + "x", "1".repeat(100_000), cjk(100_000)};
    for (Tokenizer tokenizer : new Tokenizer[] {TestTokenizers.qwen3(), TestTokenizers.deepseekV3()}) {
      for (String input : inputs) {
        String decoded = assertTimeoutPreemptively(LIMIT,
            () -> tokenizer.decode(tokenizer.encode(input)));
        assertEquals(input, decoded);
      }
    }
  }
}
