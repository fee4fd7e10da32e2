package io.moestream.engine.tokenizer.pretokenize;

/**
 * One piece of input text on its way to the model: a word, or a run the pre-tokenizers have not split
 * further. {@code atInputStart} says whether it begins at offset 0 of the original input, which the
 * Metaspace pre-tokenizer's "first" prepend scheme depends on.
 */
public record Piece(String text, boolean atInputStart) {}
