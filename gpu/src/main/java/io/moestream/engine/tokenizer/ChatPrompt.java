package io.moestream.engine.tokenizer;

import java.util.Arrays;

/**
 * A rendered chat prompt and the stretches of it where special-token strings are plain text
 * because a message's content, not the template, put them there.
 *
 * @param text what the chat template rendered (the same string in either mode)
 * @param textRanges flat {@code [start, end)} pairs into {@code text}, ascending and disjoint: a
 *     special added token whose match starts inside one is encoded as ordinary text
 */
public record ChatPrompt(String text, int[] textRanges) {
  static final int[] NO_RANGES = new int[0];

  public ChatPrompt {
    if (textRanges.length % 2 != 0) {
      throw new IllegalArgumentException("textRanges: need [start, end) pairs, got "
          + textRanges.length + " numbers");
    }
    textRanges = textRanges.clone();
    int previousEnd = 0;
    for (int r = 0; r < textRanges.length; r += 2) {
      if (textRanges[r] < previousEnd || textRanges[r + 1] <= textRanges[r] || textRanges[r + 1] > text.length()) {
        throw new IllegalArgumentException("textRanges: [" + textRanges[r] + ", " + textRanges[r + 1]
            + ") at index " + r + " is empty, out of order, overlapping or beyond the text's "
            + text.length() + " chars");
      }
      previousEnd = textRanges[r + 1];
    }
  }

  /** A prompt whose special-token strings all count as control tokens. */
  public static ChatPrompt plain(String text) {
    return new ChatPrompt(text, NO_RANGES);
  }

  @Override
  public int[] textRanges() {
    return textRanges.clone();
  }

  /** The ranges without a copy, for the encoder. */
  int[] rangesView() {
    return textRanges;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof ChatPrompt p && text.equals(p.text) && Arrays.equals(textRanges, p.textRanges);
  }

  @Override
  public int hashCode() {
    return 31 * text.hashCode() + Arrays.hashCode(textRanges);
  }

  @Override
  public String toString() {
    return "ChatPrompt[text=" + text + ", textRanges=" + Arrays.toString(textRanges) + "]";
  }
}
