package io.moestream.engine.tokenizer;

/**
 * Decodes generated ids one at a time for streaming. A token can end in the middle of a UTF-8
 * character (byte-level BPE splits emoji and CJK into byte tokens; SentencePiece byte fallback emits
 * {@code <0xNN>}), so text is only returned once it no longer ends in an incomplete character.
 *
 * <p>Each step decodes a short window of recent ids twice, with and without the newest ones, and
 * returns the difference. Decoding a window rather than single tokens keeps position-dependent
 * decoder rules right: the Metaspace/Strip rule that drops the leading space of the first token then
 * applies to both decodes alike and so cancels out, except at the very start of the stream where it
 * belongs. The concatenation of all returned strings equals {@link Tokenizer#decode} of all ids.
 *
 * <p>Not thread-safe: one per generated sequence.
 */
public final class IncrementalDecoder {
  private static final char REPLACEMENT = '\uFFFD';
  /**
   * A UTF-8 character is at most 4 bytes, so at most 4 byte tokens: text still ending in U+FFFD
   * after this many pending ids holds a genuinely invalid sequence and is released, which keeps the
   * decoded window (and the cost of each step) bounded on a stream of garbage bytes.
   */
  static final int MAX_PENDING_IDS = 8;

  private final Tokenizer tokenizer;
  private final boolean skipSpecialTokens;
  private final IntList ids = new IntList(64);
  /** Start of the window: ids before it are fully emitted and no longer decoded. */
  private int prefixOffset;
  /** Ids before this are emitted; ids from here on are pending. */
  private int readOffset;

  IncrementalDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
    this.tokenizer = tokenizer;
    this.skipSpecialTokens = skipSpecialTokens;
  }

  /** Takes the next id; returns the text it completes (possibly empty, never half a character). */
  public String accept(int id) {
    ids.add(id);
    int[] all = ids.backingArray();
    int end = ids.size();
    String prefixText = tokenizer.decode(all, prefixOffset, readOffset, skipSpecialTokens);
    String newText = tokenizer.decode(all, prefixOffset, end, skipSpecialTokens);
    if (newText.length() <= prefixText.length()) {
      return "";
    }
    boolean incomplete = newText.charAt(newText.length() - 1) == REPLACEMENT
        && end - readOffset < MAX_PENDING_IDS;
    if (incomplete) {
      return "";
    }
    prefixOffset = readOffset;
    readOffset = end;
    return suffixAfter(prefixText, newText);
  }

  /** Returns whatever is still pending (an incomplete character becomes U+FFFD), and resets. */
  public String flush() {
    int[] all = ids.backingArray();
    int end = ids.size();
    String prefixText = tokenizer.decode(all, prefixOffset, readOffset, skipSpecialTokens);
    String newText = tokenizer.decode(all, prefixOffset, end, skipSpecialTokens);
    prefixOffset = end;
    readOffset = end;
    return newText.length() > prefixText.length() ? suffixAfter(prefixText, newText) : "";
  }

  private static String suffixAfter(String prefixText, String newText) {
    if (newText.startsWith(prefixText)) {
      return newText.substring(prefixText.length());
    }
    // Not expected for the supported decoders; keep the stream going from the first difference.
    int common = 0;
    while (common < prefixText.length() && prefixText.charAt(common) == newText.charAt(common)) {
      common++;
    }
    return newText.substring(common);
  }
}
