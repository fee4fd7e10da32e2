package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Oniguruma-syntax patterns from tokenizer.json mean the same after translation to java.util.regex. */
class RustRegexTest {
  @Test
  void translations() {
    assertEquals("[^\\s\\[]", RustRegex.translate("[^\\s[]"));
    assertEquals("[\\]a]", RustRegex.translate("[]a]"));
    assertEquals("\\p{IsHan}+", RustRegex.translate("\\p{Han}+"));
    assertEquals("\\p{L}\\p{N}", RustRegex.translate("\\p{L}\\p{N}"));
    assertEquals("[0-9a-fA-F]", RustRegex.translate("\\h"));
    assertEquals("[x0-9a-fA-F]", RustRegex.translate("[x\\h]"));
    assertEquals("\\x0B", RustRegex.translate("\\v"));
  }

  @Test
  void whitespaceIsUnicodeWhiteSpace() {
    Pattern s = RustRegex.compile("\\s", "test");
    for (char c : "\t\n\u000B\f\r \u0085\u00A0\u1680\u2000\u200A\u2028\u2029\u202F\u205F\u3000".toCharArray()) {
      assertTrue(s.matcher(String.valueOf(c)).matches(), () -> "\\s should match U+" + (int) c);
    }
    assertFalse(s.matcher("\u200B").matches(), "zero-width space is not White_Space");
  }

  @Test
  void caseInsensitiveContractionsAndLookahead() {
    Pattern qwen = RustRegex.compile("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
        + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "test");
    assertEquals(List.of("It", "'S", " ok", "   ", " x"), words(qwen, "It'S ok    x"));
    assertEquals(List.of("a", "\n\n", "b"), words(qwen, "a\n\nb"));
  }

  @Test
  void dotStopsOnlyAtNewline() {
    assertTrue(RustRegex.compile("a.b", "test").matcher("a\rb").matches());
    assertFalse(RustRegex.compile("a.b", "test").matcher("a\nb").matches());
  }

  @Test
  void badPatternNamesTheLocationAndPattern() {
    TokenizerException e = assertThrows(TokenizerException.class,
        () -> RustRegex.compile("(unclosed", "tokenizer.json: pre_tokenizer.pattern"));
    assertTrue(e.getMessage().contains("tokenizer.json: pre_tokenizer.pattern"), e.getMessage());
    assertTrue(e.getMessage().contains("(unclosed"), e.getMessage());
  }

  private static List<String> words(Pattern p, String text) {
    List<String> out = new ArrayList<>();
    Matcher m = p.matcher(text);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }
}
