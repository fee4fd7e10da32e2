package io.moestream.engine.tokenizer.normalize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.text.Normalizer.Form;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Pre-ordering long runs of combining marks gives exactly the JDK's normalization (compared on runs
 * short enough for the JDK's quadratic reordering), and makes very long runs fast.
 */
class CanonicalOrderTest {
  /**
   * Marks of many classes (1, 7, 8, 202, 216, 220, 230, 232, 240), marks of class 0 (U+034F, U+093F),
   * marks that decompose (U+0344, U+0F73 to two non-starters, U+0F75), halfwidth sound marks (marks
   * only after NFKD), and starters that decompose to a letter plus marks.
   */
  private static final int[] MARKS = {0x0334, 0x093C, 0x3099, 0x0327, 0x031B, 0x0316, 0x0301,
      0x0308, 0x035C, 0x0345, 0x034F, 0x093F, 0x0344, 0x0F73, 0x0F75, 0x0F71, 0x0F72, 0xFF9E, 0xFF9F,
      0x1DCE, 0x20DD, 0x0300, 0x0323};
  private static final String STARTERS = "aeuAéǘḗ\u1E69ｶ\u3042 ";

  private static String randomText(Random random, int length) {
    StringBuilder out = new StringBuilder();
    while (out.length() < length) {
      out.append(STARTERS.charAt(random.nextInt(STARTERS.length())));
      int marks = random.nextInt(4) == 0 ? random.nextInt(3) : 20 + random.nextInt(200);
      for (int i = 0; i < marks; i++) {
        out.appendCodePoint(MARKS[random.nextInt(MARKS.length)]);
      }
    }
    return out.toString();
  }

  @Test
  void sameResultAsTheJdkForEveryForm() {
    Random random = new Random(7);
    for (int round = 0; round < 300; round++) {
      String text = randomText(random, 50 + random.nextInt(1500));
      if (round % 3 == 0) {
        text = new String(Character.toChars(MARKS[random.nextInt(MARKS.length)])) + text;
      }
      for (Form form : Form.values()) {
        assertEquals(java.text.Normalizer.normalize(text, form),
            Normalizers.unicode(form).normalize(text), form + " of round " + round);
      }
    }
  }

  @Test
  void textWithoutLongRunsIsPassedThrough() {
    String text = "Crème brûlée, a\u0301\u0316 and 日本語";
    assertSame(text, CanonicalOrder.preorder(text, Form.NFC));
  }

  @Test
  void longRunsOfMarksNormalizeQuickly() {
    int n = 128 * 1024;
    String[] inputs = {"a" + "\u0301\u0316".repeat(n), "a" + "\u0316\u0301".repeat(n),
        "a" + "\u0301\u0316\u093F".repeat(n * 2 / 3), "\u0F73\u0344".repeat(n), "ｶ" + "\uFF9E\u0301".repeat(n)};
    for (Form form : Form.values()) {
      for (String input : inputs) {
        String out = assertTimeoutPreemptively(Duration.ofSeconds(20),
            () -> Normalizers.unicode(form).normalize(input), form.toString());
        assertEquals(out, Normalizers.unicode(form).normalize(out), "normalizing is idempotent");
      }
    }
  }
}
