package io.moestream.engine.tokenizer.decode;

import java.util.List;

/**
 * A tokenizer.json "decoder": turns the token strings of some ids back into text pieces. As in the
 * Rust library, decoders chain (each gets the previous one's pieces) and the final pieces are
 * concatenated. Implementations are immutable and thread-safe.
 */
@FunctionalInterface
public interface Decoder {
  List<String> decodeChain(List<String> tokens);

  default String decode(List<String> tokens) {
    return String.join("", decodeChain(tokens));
  }
}
