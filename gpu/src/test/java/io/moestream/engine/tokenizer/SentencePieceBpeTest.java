package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * SentencePiece-style BPE (Mixtral / Llama 2 layout) on the hand-written files in
 * tokenizers/sentencepiece_bpe (legacy: Prepend + Replace normalizer) and tokenizers/metaspace_bpe
 * (newer: Metaspace pre-tokenizer with prepend_scheme "first"). Expected ids follow from the merge
 * list by hand: "▁ h"(0) "l l"(1) "▁h e"(2) "▁he ll"(3) "▁hell o"(4) "▁ w"(5) "o r"(6) "▁w or"(7)
 * "l d"(8) "▁wor ld"(9); byte tokens {@code <0xNN>} have id 3 + NN.
 */
class SentencePieceBpeTest {
  private static final int BOS = 1;
  private static final int SPACE = 259; // "▁"
  private static final int HELLO = 271; // "▁hello"
  private static final int WORLD = 276; // "▁world"

  private static int byteToken(int b) {
    return 3 + b;
  }

  private final Tokenizer legacy = TestTokenizers.named("sentencepiece_bpe");
  private final Tokenizer metaspace = TestTokenizers.named("metaspace_bpe");

  @Test
  void mergesWordsAndAddsBos() {
    assertArrayEquals(new int[] {HELLO, WORLD}, legacy.encode("hello world"));
    assertArrayEquals(new int[] {BOS, HELLO, WORLD}, legacy.encode("hello world", true));
    assertEquals("hello world", legacy.decode(new int[] {HELLO, WORLD}));
    // Strip removes one leading space of the fused text, which here starts with "<s>": the space of
    // "▁hello" stays, as with the reference Llama 2 tokenizer ("<s> hello world").
    assertEquals("<s> hello world", legacy.decode(new int[] {BOS, HELLO, WORLD}));
    assertEquals("hello world", legacy.decode(new int[] {BOS, HELLO, WORLD}, true));
    assertEquals(1, legacy.bosTokenId().getAsInt());
    assertEquals(2, legacy.eosTokenId().getAsInt());
  }

  @Test
  void byteFallbackForCharactersOutsideTheVocab() {
    // "🚀" is F0 9F 9A 80 in UTF-8; "c", "a", "f" are missing too, "é" is in the vocab.
    int[] rocket = {SPACE, byteToken(0xF0), byteToken(0x9F), byteToken(0x9A), byteToken(0x80)};
    int[] expected = new int[1 + rocket.length];
    expected[0] = HELLO;
    System.arraycopy(rocket, 0, expected, 1, rocket.length);
    assertArrayEquals(expected, legacy.encode("hello 🚀"));
    assertEquals("hello 🚀", legacy.decode(expected));
    int[] cafe = {SPACE, byteToken('c'), byteToken('a'), byteToken('f'), 277};
    assertArrayEquals(cafe, legacy.encode("café"));
    assertEquals("café", legacy.decode(cafe));
  }

  @Test
  void invalidByteRunDecodesToOneReplacementPerByte() {
    assertEquals("hello\uFFFD\uFFFD", legacy.decode(new int[] {HELLO, byteToken(0xF0), byteToken(0x9F)}));
  }

  @Test
  void legacyNormalizerPrependsToEverySegmentBetweenAddedTokens() {
    // "hi" -> "▁hi": "▁h" + <0x69>; after <s> the segment "hello" is normalized on its own and
    // gets its own "▁" (the transformers "legacy" behaviour).
    assertArrayEquals(new int[] {267, byteToken('i'), BOS, HELLO}, legacy.encode("hi<s>hello"));
    assertEquals("hi<s> hello", legacy.decode(new int[] {267, byteToken('i'), BOS, HELLO}));
  }

  @Test
  void metaspaceFirstSchemePrependsOnlyAtTheStartOfTheInput() {
    assertArrayEquals(new int[] {HELLO, WORLD}, metaspace.encode("hello world"));
    // After <s> there is no "▁": h e ll o (merge "l l" only).
    assertArrayEquals(new int[] {267, byteToken('i'), BOS, 260, 261, 268, 263},
        metaspace.encode("hi<s>hello"));
    assertEquals("hi<s>hello", metaspace.decode(new int[] {267, byteToken('i'), BOS, 260, 261, 268, 263}));
    // The Metaspace decoder drops the leading "▁" of the first token only.
    assertEquals("hello world", metaspace.decode(new int[] {HELLO, WORLD}));
    assertEquals("hello", metaspace.decode(new int[] {HELLO}));
  }

  @Test
  void emptyInput() {
    assertArrayEquals(new int[0], legacy.encode(""));
    assertArrayEquals(new int[] {BOS}, legacy.encode("", true));
    assertEquals("", legacy.decode(new int[0]));
  }

  @Test
  void incrementalDecodingKeepsTheSpaceBetweenWordsAndWaitsForWholeCharacters() {
    IncrementalDecoder decoder = legacy.newIncrementalDecoder();
    assertEquals("hello", decoder.accept(HELLO));
    assertEquals(" world", decoder.accept(WORLD));
    assertEquals(" ", decoder.accept(SPACE));
    assertEquals("", decoder.accept(byteToken(0xF0)));
    assertEquals("", decoder.accept(byteToken(0x9F)));
    assertEquals("", decoder.accept(byteToken(0x9A)));
    assertEquals("🚀", decoder.accept(byteToken(0x80)));
    assertEquals("", decoder.flush());
  }

  @Test
  void flushReturnsAnIncompleteCharacterAsReplacement() {
    IncrementalDecoder decoder = legacy.newIncrementalDecoder();
    assertEquals("hello", decoder.accept(HELLO));
    assertEquals("", decoder.accept(byteToken(0xF0)));
    assertEquals("\uFFFD", decoder.flush());
  }
}
