package io.moestream.engine.tokenizer;

/**
 * An entry of "added_tokens" in tokenizer.json: a string that is matched in the input before any
 * normalization or pre-tokenization and always becomes exactly this id.
 *
 * @param special skipped by {@code decode(ids, skipSpecialTokens = true)}
 * @param lstrip the match also swallows the whitespace before it
 * @param rstrip the match also swallows the whitespace after it
 * @param singleWord only matches when not glued to a letter or digit on either side
 * @param normalized matched in the normalized text (else in the raw input)
 */
public record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip,
    boolean singleWord, boolean normalized) {
  public AddedToken {
    if (content == null || content.isEmpty()) {
      throw new TokenizerException("added token " + id + " has empty content");
    }
  }
}
