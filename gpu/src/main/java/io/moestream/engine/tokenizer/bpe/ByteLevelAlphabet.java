package io.moestream.engine.tokenizer.bpe;

/**
 * GPT-2's reversible byte-to-character table ("bytes_to_unicode"): byte-level BPE vocabularies are
 * written in these characters so that every token is printable. Bytes that are printable Latin-1
 * characters ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes, in order, get
 * U+0100 onwards (so the space 0x20 becomes 'Ġ' U+0120 and '\n' becomes 'Ċ' U+010A).
 */
public final class ByteLevelAlphabet {
  private static final char[] BYTE_TO_CHAR = new char[256];
  /** Inverse of BYTE_TO_CHAR, indexed by char; -1 for characters that stand for no byte. */
  private static final short[] CHAR_TO_BYTE = new short[512];

  static {
    java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
    int next = 256;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      char c = printable ? (char) b : (char) next++;
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = (short) b;
    }
  }

  private ByteLevelAlphabet() {}

  public static char charOf(int unsignedByte) {
    return BYTE_TO_CHAR[unsignedByte];
  }

  /** The byte {@code c} stands for, or -1 when it is not a byte-level character. */
  public static int byteOf(char c) {
    return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
  }

  /** The byte-level spelling of some UTF-8 bytes, e.g. " hi" -> "Ġhi". */
  public static String encode(byte[] utf8) {
    char[] chars = new char[utf8.length];
    for (int i = 0; i < utf8.length; i++) {
      chars[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
    }
    return new String(chars);
  }
}
