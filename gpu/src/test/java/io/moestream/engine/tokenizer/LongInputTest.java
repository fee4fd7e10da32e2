package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

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
