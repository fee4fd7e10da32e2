package io.moestream.engine.tokenizer;

/**
 * Character predicates with the meaning Rust gives them, because tokenizer.json semantics come from
 * the Rust tokenizers library. Java's own {@link Character#isWhitespace} is different: it rejects
 * U+00A0, U+2007 and U+202F and accepts U+001C..U+001F, while Rust's {@code char::is_whitespace}
 * is exactly the Unicode White_Space property.
 */
public final class UnicodeChars {
  private UnicodeChars() {}

  /** Unicode White_Space (Rust {@code char::is_whitespace}). */
  public static boolean isWhiteSpace(int cp) {
    return (cp >= 0x09 && cp <= 0x0D)
        || cp == 0x20
        || cp == 0x85
        || cp == 0xA0
        || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200A)
        || cp == 0x2028
        || cp == 0x2029
        || cp == 0x202F
        || cp == 0x205F
        || cp == 0x3000;
  }

  /** Rust {@code char::is_numeric}: the general categories Nd, Nl and No. */
  public static boolean isNumeric(int cp) {
    int type = Character.getType(cp);
    return type == Character.DECIMAL_DIGIT_NUMBER
        || type == Character.LETTER_NUMBER
        || type == Character.OTHER_NUMBER;
  }

  /** Rust {@code char::is_alphanumeric}: Alphabetic or numeric. */
  public static boolean isAlphanumeric(int cp) {
    return Character.isAlphabetic(cp) || isNumeric(cp);
  }
}
