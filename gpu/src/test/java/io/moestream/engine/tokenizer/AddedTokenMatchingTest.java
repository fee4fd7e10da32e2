package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * lstrip, rstrip, single_word and normalized on added tokens, with a character-level vocabulary
 * (no merges) so every id can be read off: a=0 b=1 ' '=2 x=3 y=4 n=5 '<'=6 '>'=7.
 */
class AddedTokenMatchingTest {
  private static final int A = 0;
  private static final int B = 1;
  private static final int SPACE = 2;
  private static final int X = 3;
  private static final int Y = 4;
  private static final int LSTRIP = 10; // "<m>", lstrip
  private static final int RSTRIP = 11; // "<r>", rstrip
  private static final int SINGLE_WORD = 12; // "ab", single_word
  private static final int NORMALIZED = 13; // "<N>", normalized: matched in lowercased text as "<n>"
  private static final int LONGER = 14; // "<m>>": longest match wins over "<m>"

  private static Tokenizer tokenizer() throws Exception {
    String json = "{\"normalizer\": {\"type\": \"Lowercase\"},"
        + " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \" \": 2, \"x\": 3,"
        + " \"y\": 4, \"n\": 5, \"<\": 6, \">\": 7}, \"merges\": []},"
        + " \"added_tokens\": ["
        + token(LSTRIP, "<m>", "\"lstrip\": true") + ","
        + token(RSTRIP, "<r>", "\"rstrip\": true") + ","
        + token(SINGLE_WORD, "ab", "\"single_word\": true") + ","
        + token(NORMALIZED, "<N>", "\"normalized\": true") + ","
        + token(LONGER, "<m>>", "\"special\": true") + "]}";
    return TokenizerLoader.build(new ObjectMapper().readTree(json), TokenizerConfig.EMPTY, "test");
  }

  private static String token(int id, String content, String flag) {
    return "{\"id\": " + id + ", \"content\": \"" + content + "\", \"normalized\": false, " + flag + "}";
  }

  @Test
  void lstripSwallowsWhitespaceBefore() throws Exception {
    assertArrayEquals(new int[] {A, LSTRIP, SPACE, B}, tokenizer().encode("a  <m> b"));
  }

  @Test
  void rstripSwallowsWhitespaceAfter() throws Exception {
    assertArrayEquals(new int[] {A, SPACE, RSTRIP, B}, tokenizer().encode("a <r>  b"));
  }

  @Test
  void singleWordOnlyMatchesAlone() throws Exception {
    Tokenizer t = tokenizer();
    assertArrayEquals(new int[] {X, SPACE, SINGLE_WORD, SPACE, Y}, t.encode("x ab y"));
    assertArrayEquals(new int[] {X, A, B, SPACE, Y}, t.encode("xab y"));
    assertArrayEquals(new int[] {SINGLE_WORD}, t.encode("ab"));
  }

  @Test
  void normalizedTokensMatchTheirNormalizedSpellingAfterNormalization() throws Exception {
    Tokenizer t = tokenizer();
    assertArrayEquals(new int[] {A, NORMALIZED, B}, t.encode("A<N>B"));
    assertArrayEquals(new int[] {A, NORMALIZED, B}, t.encode("a<n>b"));
  }

  @Test
  void longestMatchWins() throws Exception {
    assertArrayEquals(new int[] {LONGER, A}, tokenizer().encode("<m>>a"));
  }
}
