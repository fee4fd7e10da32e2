package io.moestream.engine.tokenizer;

import java.util.List;
import java.util.Random;

/**
 * Random Unicode text for property tests: words, whitespace runs (including no-break, em and
 * ideographic spaces), CJK, astral characters (surrogate pairs in Java), combining marks, digits,
 * control characters and special-token look-alikes, whole and partial.
 */
final class RandomText {
  private static final String ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
      + " .,;:!?-_()[]{}<>|/\\\"'#$%&*+=@^`~";
  private static final String WHITESPACE = " \t\n\r\u000B\f\u0085\u00A0\u1680\u2003\u2028\u202F\u3000\u200B\uFEFF";
  private static final List<String> LOOK_ALIKES = List.of(
      "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<|im_", "|>", "<|",
      "<｜User｜>", "<｜Assistant｜>", "<｜begin▁of▁sentence｜>", "<｜", "｜>", "▁", "<s>", "</s>",
      "'s", "'LL", "'Re");

  private RandomText() {}

  static String next(Random random) {
    StringBuilder out = new StringBuilder();
    int fragments = 1 + random.nextInt(12);
    for (int f = 0; f < fragments; f++) {
      switch (random.nextInt(8)) {
        case 0:
          for (int i = random.nextInt(10); i >= 0; i--) {
            out.append(ASCII.charAt(random.nextInt(ASCII.length())));
          }
          break;
        case 1:
          for (int i = random.nextInt(6); i >= 0; i--) {
            out.append(WHITESPACE.charAt(random.nextInt(WHITESPACE.length())));
          }
          break;
        case 2:
          for (int i = random.nextInt(8); i >= 0; i--) {
            out.appendCodePoint(0x4E00 + random.nextInt(0x9FFF - 0x4E00));
          }
          break;
        case 3:
          for (int i = random.nextInt(4); i >= 0; i--) {
            out.appendCodePoint(random.nextBoolean()
                ? 0x1F300 + random.nextInt(0x600) : 0x10000 + random.nextInt(0x100000));
          }
          break;
        case 4:
          if (random.nextBoolean()) {
            out.append("aeoAEOnc".charAt(random.nextInt(8)));
          }
          for (int i = random.nextInt(3); i >= 0; i--) {
            out.appendCodePoint(0x0300 + random.nextInt(0x70));
          }
          break;
        case 5:
          out.append(LOOK_ALIKES.get(random.nextInt(LOOK_ALIKES.size())));
          break;
        case 6:
          for (int i = random.nextInt(4); i >= 0; i--) {
            int cp;
            do {
              cp = random.nextInt(0x10000);
            } while (cp >= 0xD800 && cp <= 0xDFFF);
            out.appendCodePoint(cp);
          }
          break;
        default:
          for (int i = random.nextInt(9); i >= 0; i--) {
            out.append((char) ('0' + random.nextInt(10)));
          }
      }
    }
    return out.toString();
  }
}
