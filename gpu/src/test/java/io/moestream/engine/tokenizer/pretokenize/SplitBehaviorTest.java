package io.moestream.engine.tokenizer.pretokenize;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The five delimiter behaviours of the Rust Split pre-tokenizer, and invert, on "a-b--c" split at "-". */
class SplitBehaviorTest {
  private static List<String> split(SplitBehavior behavior, boolean invert) {
    List<Piece> out = new ArrayList<>();
    PreTokenizers.regex(Pattern.compile("-"), behavior, invert).split(new Piece("a-b--c", true), out);
    return out.stream().map(Piece::text).toList();
  }

  @Test
  void behaviours() {
    assertEquals(List.of("a", "b", "c"), split(SplitBehavior.REMOVED, false));
    assertEquals(List.of("a", "-", "b", "-", "-", "c"), split(SplitBehavior.ISOLATED, false));
    assertEquals(List.of("a-", "b-", "-", "c"), split(SplitBehavior.MERGED_WITH_PREVIOUS, false));
    assertEquals(List.of("a", "-b", "-", "-c"), split(SplitBehavior.MERGED_WITH_NEXT, false));
    assertEquals(List.of("a", "-", "b", "--", "c"), split(SplitBehavior.CONTIGUOUS, false));
  }

  @Test
  void invertSwapsWhatCountsAsDelimiter() {
    assertEquals(List.of("-", "-", "-"), split(SplitBehavior.REMOVED, true));
    assertEquals(List.of("a-", "b-", "-", "c"), split(SplitBehavior.MERGED_WITH_NEXT, true));
  }

  @Test
  void onlyThePieceAtOffsetZeroKeepsTheInputStartFlag() {
    List<Piece> out = new ArrayList<>();
    PreTokenizers.regex(Pattern.compile("-"), SplitBehavior.ISOLATED, false)
        .split(new Piece("a-b", true), out);
    assertEquals(List.of(true, false, false), out.stream().map(Piece::atInputStart).toList());
  }

  @Test
  void metaspaceSplitsBeforeEveryReplacementCharacter() {
    List<Piece> out = new ArrayList<>();
    new MetaspacePreTokenizer('▁', MetaspacePreTokenizer.PrependScheme.ALWAYS, true)
        .split(new Piece("a  b", false), out);
    assertEquals(List.of("▁a", "▁", "▁b"), out.stream().map(Piece::text).toList());
  }
}
