package io.moestream.engine.tokenizer;

/**
 * A tokenizer folder that cannot be used as asked: a missing or malformed file, a field of the wrong
 * type, or a component type this implementation does not support. The message always names the file
 * and the field (or the type) at fault, because a tokenizer that silently does something different
 * from the reference is worse than one that refuses to load.
 */
public class TokenizerException extends RuntimeException {
  public TokenizerException(String message) {
    super(message);
  }

  public TokenizerException(String message, Throwable cause) {
    super(message, cause);
  }
}
