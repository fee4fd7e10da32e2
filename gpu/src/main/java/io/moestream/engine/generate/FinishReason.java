package io.moestream.engine.generate;

/** Why a generation ended. */
public enum FinishReason {
  /** An end-of-sequence token was generated. */
  STOP,
  /** max_new_tokens or the model's context length was reached. */
  LENGTH,
  /** The request could not run: it names the reason in {@link TokenEvent#error()}. */
  ERROR
}
