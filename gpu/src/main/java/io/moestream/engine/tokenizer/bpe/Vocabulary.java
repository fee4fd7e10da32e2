package io.moestream.engine.tokenizer.bpe;

import java.util.Map;

/** The model's vocabulary ("model.vocab"): token string to id and back. Immutable. */
public final class Vocabulary {
  private final Map<String, Integer> idsByToken;
  /** Token of each id; null for ids the vocabulary does not use. */
  private final String[] tokensById;

  /** Takes ownership of {@code idsByToken}, which must not be changed afterwards. */
  Vocabulary(Map<String, Integer> idsByToken) {
    this.idsByToken = idsByToken;
    int maxId = idsByToken.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
    tokensById = new String[maxId + 1];
    idsByToken.forEach((token, id) -> tokensById[id] = token);
  }

  /** The id of {@code token}, or -1. */
  public int id(String token) {
    Integer id = idsByToken.get(token);
    return id == null ? -1 : id;
  }

  /** The token of {@code id}, or null. */
  public String token(int id) {
    return id >= 0 && id < tokensById.length ? tokensById[id] : null;
  }

  /** One more than the largest id. */
  public int size() {
    return tokensById.length;
  }
}
