package io.moestream.engine.tokenizer.pretokenize;

import java.util.List;

/**
 * A tokenizer.json "pre_tokenizer": splits a piece of normalized text into smaller pieces (words)
 * that the model encodes independently. Implementations are immutable and thread-safe.
 */
@FunctionalInterface
public interface PreTokenizer {
  /** Appends the pieces {@code piece} splits into to {@code out}; never appends empty pieces. */
  void split(Piece piece, List<Piece> out);
}
