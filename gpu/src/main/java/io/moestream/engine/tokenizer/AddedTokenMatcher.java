package io.moestream.engine.tokenizer;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts text at occurrences of added tokens, the way the Rust library's {@code AddedVocabulary} does:
 * leftmost-longest matches (its Aho-Corasick automaton runs in LeftmostLongest mode), a
 * {@code single_word} token that touches a letter or digit is skipped, {@code lstrip}/{@code rstrip}
 * widen a match over neighbouring whitespace. Immutable and thread-safe.
 */
final class AddedTokenMatcher {
  /** A stretch of the input: an added token ({@code tokenId >= 0}) or plain text to encode. */
  record Segment(int tokenId, String text, int start) {}

  private final BitSet firstChars = new BitSet();
  /** Candidates by first UTF-16 unit, longest first. */
  private final Map<Character, AddedToken[]> byFirstChar = new HashMap<>();

  AddedTokenMatcher(List<AddedToken> tokens) {
    Map<Character, List<AddedToken>> groups = new HashMap<>();
    for (AddedToken token : tokens) {
      char first = token.content().charAt(0);
      firstChars.set(first);
      groups.computeIfAbsent(first, c -> new ArrayList<>()).add(token);
    }
    groups.forEach((first, group) -> {
      group.sort(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed());
      byFirstChar.put(first, group.toArray(new AddedToken[0]));
    });
  }

  boolean isEmpty() {
    return byFirstChar.isEmpty();
  }

  /** Splits {@code text} into plain and added-token segments, in order, without empty plain ones. */
  List<Segment> split(String text) {
    return split(text, ChatPrompt.NO_RANGES, 0);
  }

  /**
   * As {@link #split(String)}, except that a special token whose match starts inside one of
   * {@code textRanges} (flat ascending {@code [start, end)} pairs, in coordinates where
   * {@code text} starts at {@code offset}) is left in the plain text, as the Rust library's
   * {@code encode_special_tokens} leaves every special token: the automaton moves past it, so no
   * shorter token is looked for inside it.
   */
  List<Segment> split(String text, int[] textRanges, int offset) {
    List<Segment> out = new ArrayList<>();
    int plainStart = 0;
    int i = 0;
    int range = 0; // first range that may still hold a later match
    while (i < text.length()) {
      AddedToken token = longestAt(text, i);
      if (token == null) {
        i++;
        continue;
      }
      int start = i;
      int stop = i + token.content().length();
      i = stop;
      if (token.singleWord() && !standsAlone(text, start, stop)) {
        continue;
      }
      if (token.special() && textRanges.length > 0) {
        int at = offset + start;
        while (range < textRanges.length && textRanges[range + 1] <= at) {
          range += 2;
        }
        if (range < textRanges.length && textRanges[range] <= at) {
          continue; // typed inside message content: text, not a control token
        }
      }
      if (token.lstrip()) {
        start = Math.max(plainStart, start - whitespaceBefore(text, start));
      }
      if (token.rstrip()) {
        stop += whitespaceAfter(text, stop);
        i = stop;
      }
      if (start > plainStart) {
        out.add(new Segment(-1, text.substring(plainStart, start), plainStart));
      }
      out.add(new Segment(token.id(), token.content(), start));
      plainStart = stop;
    }
    if (plainStart < text.length()) {
      out.add(new Segment(-1, plainStart == 0 ? text : text.substring(plainStart), plainStart));
    }
    return out;
  }

  /** The longest token starting at {@code text[i]}, or null. */
  AddedToken longestAt(String text, int i) {
    char c = text.charAt(i);
    if (!firstChars.get(c)) {
      return null;
    }
    for (AddedToken candidate : byFirstChar.get(c)) {
      if (text.startsWith(candidate.content(), i)) {
        return candidate;
      }
    }
    return null;
  }

  private static boolean standsAlone(String text, int start, int stop) {
    boolean wordBefore = start > 0 && UnicodeChars.isAlphanumeric(text.codePointBefore(start));
    boolean wordAfter = stop < text.length() && UnicodeChars.isAlphanumeric(text.codePointAt(stop));
    return !wordBefore && !wordAfter;
  }

  private static int whitespaceBefore(String text, int start) {
    int i = start;
    while (i > 0 && UnicodeChars.isWhiteSpace(text.codePointBefore(i))) {
      i -= Character.charCount(text.codePointBefore(i));
    }
    return start - i;
  }

  private static int whitespaceAfter(String text, int stop) {
    int i = stop;
    while (i < text.length() && UnicodeChars.isWhiteSpace(text.codePointAt(i))) {
      i += Character.charCount(text.codePointAt(i));
    }
    return i - stop;
  }
}
