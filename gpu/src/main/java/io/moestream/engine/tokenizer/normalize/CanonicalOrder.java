package io.moestream.engine.tokenizer.normalize;

import java.text.Normalizer.Form;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Puts long runs of combining marks into canonical order before {@link java.text.Normalizer} sees
 * them, so that normalizing stays near-linear in the text length.
 *
 * <p>Why: the JDK's normalizer reorders combining marks by insertion (every mark is moved back past
 * the marks of a higher combining class before it), so a prompt of one letter followed by 100k
 * alternating marks of two classes ("a" + "\u0301\u0316" repeated) took 50 s to NFC-normalize, and
 * its {@code isNormalized} check is just as slow. The Rust library sorts each run (O(n log n)).
 * Here each long run is decomposed one character at a time and stably sorted by combining class;
 * the text the JDK then gets has the same canonical decomposition as the original, so it normalizes
 * to exactly the same string, but with nothing left to reorder.
 *
 * <p>The JDK exposes no combining class, so the order of two marks is read off the JDK itself:
 * normalizing the two-mark string to NFD swaps them exactly when the first has the higher class.
 * Results per code point are cached; marks are a few thousand code points.
 */
final class CanonicalOrder {
  /** Runs of at most this many marks are left to the JDK: short, and the common case. */
  static final int LONG_RUN = 32;
  /** Combining classes 1 (overlay) and 230 (above): a mark's class is 0 iff neither moves it. */
  private static final int CLASS_1 = 0x0334;
  private static final int CLASS_230 = 0x0301;

  private static final Map<Integer, int[]> CANONICAL = new ConcurrentHashMap<>();
  private static final Map<Integer, int[]> COMPATIBILITY = new ConcurrentHashMap<>();
  private static final Map<Integer, Boolean> NON_STARTER = new ConcurrentHashMap<>();

  private CanonicalOrder() {}

  /**
   * {@code text}, or when it has a run of more than {@link #LONG_RUN} marks, a string with the same
   * canonical ({@code NFC}/{@code NFD}) or compatibility ({@code NFKC}/{@code NFKD}) decomposition
   * whose long runs are already decomposed and in canonical order.
   */
  static String preorder(String text, Form form) {
    boolean compatibility = form == Form.NFKC || form == Form.NFKD;
    StringBuilder out = null;
    int copied = 0; // text before this index is in out (when out != null)
    int runStart = -1;
    int runLength = 0;
    for (int i = 0; i <= text.length(); ) {
      int cp = i < text.length() ? text.codePointAt(i) : -1;
      if (cp >= 0 && mayBeNonStarter(cp)) {
        if (runLength++ == 0) {
          runStart = i;
        }
      } else {
        if (runLength > LONG_RUN) {
          // The character before the run decomposes to a starter and maybe marks of the same run.
          int regionStart = runStart == 0 ? 0 : text.offsetByCodePoints(runStart, -1);
          if (out == null) {
            out = new StringBuilder(text.length() + 16);
          }
          out.append(text, copied, regionStart);
          appendOrdered(text, regionStart, i, compatibility, out);
          copied = i;
        }
        runLength = 0;
      }
      i += cp >= 0 ? Character.charCount(cp) : 1;
    }
    return out == null ? text : out.append(text, copied, text.length()).toString();
  }

  /**
   * Every character with a non-zero combining class is a mark (Mn, Mc, Me), and every other
   * character decomposes to something starting with class 0, except the halfwidth katakana sound
   * marks, whose compatibility decompositions are class-8 marks (checked against Unicode 14 data).
   * So the text outside runs of these never reorders across a run's ends.
   */
  private static boolean mayBeNonStarter(int cp) {
    switch (Character.getType(cp)) {
      case Character.NON_SPACING_MARK:
      case Character.COMBINING_SPACING_MARK:
      case Character.ENCLOSING_MARK:
        return true;
      default:
        return cp == 0xFF9E || cp == 0xFF9F;
    }
  }

  /** Appends the decomposition of text[from, to), each run of non-starters stably sorted by class. */
  private static void appendOrdered(String text, int from, int to, boolean compatibility,
      StringBuilder out) {
    int[] decomposed = new int[(to - from) * 4 + 8];
    int n = 0;
    for (int i = from; i < to; ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      int[] parts = decomposition(cp, compatibility);
      if (n + parts.length > decomposed.length) {
        decomposed = Arrays.copyOf(decomposed, (n + parts.length) * 2);
      }
      System.arraycopy(parts, 0, decomposed, n, parts.length);
      n += parts.length;
    }
    int runStart = 0;
    for (int i = 0; i <= n; i++) {
      if (i == n || !isNonStarter(decomposed[i])) {
        sortByClass(decomposed, runStart, i);
        runStart = i + 1;
      }
    }
    for (int i = 0; i < n; i++) {
      out.appendCodePoint(decomposed[i]);
    }
  }

  private static int[] decomposition(int cp, boolean compatibility) {
    Map<Integer, int[]> cache = compatibility ? COMPATIBILITY : CANONICAL;
    int[] parts = cache.get(cp);
    if (parts == null) {
      String one = new String(Character.toChars(cp));
      parts = java.text.Normalizer.normalize(one, compatibility ? Form.NFKD : Form.NFD)
          .codePoints().toArray();
      if (mayBeNonStarter(cp)) {
        cache.put(cp, parts); // bounded: only marks are cached
      }
    }
    return parts;
  }

  /** Whether {@code cp} (fully decomposed) has a non-zero combining class. */
  private static boolean isNonStarter(int cp) {
    Boolean known = NON_STARTER.get(cp);
    if (known == null) {
      known = movesBefore(cp, CLASS_1) || movesBefore(CLASS_230, cp);
      if (mayBeNonStarter(cp)) {
        NON_STARTER.put(cp, known);
      }
    }
    return known;
  }

  /** Whether NFD puts {@code second} before {@code first}: both marks, class(first) > class(second). */
  private static boolean movesBefore(int first, int second) {
    String pair = new StringBuilder().appendCodePoint(first).appendCodePoint(second).toString();
    return !java.text.Normalizer.normalize(pair, Form.NFD).equals(pair);
  }

  /** Stable sort of marks[from, to) by combining class, in O(n log n). */
  private static void sortByClass(int[] marks, int from, int to) {
    if (to - from < 2) {
      return;
    }
    // Rank the distinct marks by class with the pairwise test (equal classes get equal ranks).
    TreeSet<Integer> distinct = new TreeSet<>();
    for (int i = from; i < to; i++) {
      distinct.add(marks[i]);
    }
    Integer[] byClass = distinct.toArray(new Integer[0]);
    Arrays.sort(byClass, (a, b) -> a.equals(b) ? 0
        : movesBefore(a, b) ? 1 : movesBefore(b, a) ? -1 : 0);
    Map<Integer, Integer> rank = new java.util.HashMap<>();
    for (int r = 0, i = 0; i < byClass.length; i++) {
      if (i > 0 && movesBefore(byClass[i], byClass[i - 1])) {
        r++;
      }
      rank.put(byClass[i], r);
    }
    // Key = (rank, position): sorting the keys is a stable sort by rank.
    long[] keys = new long[to - from];
    for (int i = from; i < to; i++) {
      keys[i - from] = ((long) rank.get(marks[i]) << 32) | (i - from);
    }
    Arrays.sort(keys);
    int[] sorted = new int[keys.length];
    for (int i = 0; i < keys.length; i++) {
      sorted[i] = marks[from + (int) keys[i]];
    }
    System.arraycopy(sorted, 0, marks, from, sorted.length);
  }
}
