package io.moestream.engine.tokenizer.pretokenize;

import java.util.Arrays;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Growable list of (start, end, matched) spans covering a text, built the way the Rust library's
 * {@code Pattern::find_matches} builds it. Per call, never shared.
 */
final class Spans {
  int[] data = new int[48];
  int count;

  private void add(int start, int end, boolean match) {
    if (3 * count + 3 > data.length) {
      data = Arrays.copyOf(data, data.length * 2);
    }
    data[3 * count] = start;
    data[3 * count + 1] = end;
    data[3 * count + 2] = match ? 1 : 0;
    count++;
  }

  /** Regex matches and the gaps between them; {@code invert} swaps which of them count as match. */
  static Spans ofRegex(Pattern pattern, String text, boolean invert) {
    Spans spans = new Spans();
    Matcher m = pattern.matcher(text);
    int previous = 0;
    while (m.find()) {
      if (m.start() == m.end()) {
        continue; // an empty match cuts nothing
      }
      if (m.start() > previous) {
        spans.add(previous, m.start(), invert);
      }
      spans.add(m.start(), m.end(), !invert);
      previous = m.end();
    }
    if (previous < text.length()) {
      spans.add(previous, text.length(), invert);
    }
    return spans;
  }

  /** Every character accepted by {@code isDelimiter} is its own match; runs of others are gaps. */
  static Spans ofChars(IntPredicate isDelimiter, String text) {
    Spans spans = new Spans();
    int previous = 0;
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      int next = i + Character.charCount(cp);
      if (isDelimiter.test(cp)) {
        if (i > previous) {
          spans.add(previous, i, false);
        }
        spans.add(i, next, true);
        previous = next;
      }
      i = next;
    }
    if (previous < text.length()) {
      spans.add(previous, text.length(), false);
    }
    return spans;
  }
}
