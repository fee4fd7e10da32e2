package io.moestream.engine.tokenizer.normalize;

/**
 * A tokenizer.json "normalizer": rewrites the text between added tokens before it is split into
 * words. Implementations are immutable and thread-safe.
 */
@FunctionalInterface
public interface Normalizer {
  String normalize(String text);

  /** The normalizer of a tokenizer.json without one. */
  Normalizer IDENTITY = text -> text;
}
