package io.moestream.engine.tokenizer.pretokenize;

import io.moestream.engine.tokenizer.TokenizerException;
import java.util.List;

/**
 * What happens to the matched delimiters when a Split, Punctuation or Digits pre-tokenizer cuts a
 * piece, as the Rust {@code SplitDelimiterBehavior}: for "a-b" split on "-", Removed gives [a, b],
 * Isolated [a, -, b], MergedWithPrevious [a-, b], MergedWithNext [a, -b], and Contiguous merges
 * runs of adjacent delimiters into one piece.
 */
public enum SplitBehavior {
  REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

  public static SplitBehavior fromJson(String name, String where) {
    switch (name) {
      case "Removed": return REMOVED;
      case "Isolated": return ISOLATED;
      case "MergedWithPrevious": return MERGED_WITH_PREVIOUS;
      case "MergedWithNext": return MERGED_WITH_NEXT;
      case "Contiguous": return CONTIGUOUS;
      default:
        throw new TokenizerException(where + ": split behavior \"" + name + "\" is not supported"
            + " (supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)");
    }
  }

  /**
   * Cuts {@code piece} at the given spans and appends the results to {@code out}.
   *
   * @param spans consecutive spans covering the piece's text: {@code spans[3i]} start,
   *     {@code spans[3i+1]} end, {@code spans[3i+2]} 1 where the pattern matched, else 0
   * @param count number of spans
   */
  void apply(Piece piece, int[] spans, int count, List<Piece> out) {
    switch (this) {
      case REMOVED:
        for (int i = 0; i < count; i++) {
          if (spans[3 * i + 2] == 0) {
            emit(piece, spans[3 * i], spans[3 * i + 1], out);
          }
        }
        return;
      case ISOLATED:
        for (int i = 0; i < count; i++) {
          emit(piece, spans[3 * i], spans[3 * i + 1], out);
        }
        return;
      case MERGED_WITH_PREVIOUS: {
        // A match joins the piece before it, unless that piece is itself a match.
        int start = -1;
        int end = -1;
        boolean previousMatch = false;
        for (int i = 0; i < count; i++) {
          boolean match = spans[3 * i + 2] == 1;
          if (match && !previousMatch && start >= 0) {
            end = spans[3 * i + 1];
          } else {
            if (start >= 0) {
              emit(piece, start, end, out);
            }
            start = spans[3 * i];
            end = spans[3 * i + 1];
          }
          previousMatch = match;
        }
        if (start >= 0) {
          emit(piece, start, end, out);
        }
        return;
      }
      case MERGED_WITH_NEXT: {
        // Mirror image: walk backwards, a match joins the piece after it.
        int mark = out.size();
        int start = -1;
        int end = -1;
        boolean previousMatch = false;
        for (int i = count - 1; i >= 0; i--) {
          boolean match = spans[3 * i + 2] == 1;
          if (match && !previousMatch && start >= 0) {
            start = spans[3 * i];
          } else {
            if (start >= 0) {
              emit(piece, start, end, out);
            }
            start = spans[3 * i];
            end = spans[3 * i + 1];
          }
          previousMatch = match;
        }
        if (start >= 0) {
          emit(piece, start, end, out);
        }
        java.util.Collections.reverse(out.subList(mark, out.size()));
        return;
      }
      case CONTIGUOUS: {
        int start = -1;
        int end = -1;
        boolean previousMatch = false;
        for (int i = 0; i < count; i++) {
          boolean match = spans[3 * i + 2] == 1;
          if (match == previousMatch && start >= 0) {
            end = spans[3 * i + 1];
          } else {
            if (start >= 0) {
              emit(piece, start, end, out);
            }
            start = spans[3 * i];
            end = spans[3 * i + 1];
          }
          previousMatch = match;
        }
        if (start >= 0) {
          emit(piece, start, end, out);
        }
        return;
      }
      default:
        throw new AssertionError(this);
    }
  }

  private static void emit(Piece piece, int start, int end, List<Piece> out) {
    if (end > start) {
      String text = piece.text();
      out.add(new Piece(start == 0 && end == text.length() ? text : text.substring(start, end),
          piece.atInputStart() && start == 0));
    }
  }
}
