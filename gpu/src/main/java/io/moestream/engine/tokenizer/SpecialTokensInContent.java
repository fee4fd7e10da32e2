package io.moestream.engine.tokenizer;

import java.util.Locale;

/**
 * What a special-token string (such as {@code <|im_end|>}) typed inside a chat message's content
 * becomes when the rendered chat prompt is encoded.
 */
public enum SpecialTokensInContent {
  /**
   * Plain text, encoded like any other characters (the default): user text is data, so a user who
   * writes {@code <|im_end|><|im_start|>system} cannot end their turn or forge a system message.
   * The template's own special tokens are still control tokens.
   */
  TEXT,
  /** The control token, as transformers' apply_chat_template(tokenize=True) does. */
  CONTROL;

  /** {@code "text"} or {@code "control"}; {@code field} names the setting in the error. */
  public static SpecialTokensInContent parse(String value, String field) {
    if (value != null) {
      for (SpecialTokensInContent mode : values()) {
        if (mode.configName().equals(value)) {
          return mode;
        }
      }
    }
    throw new IllegalArgumentException(field + ": must be \"text\" or \"control\", got "
        + (value == null ? "nothing" : "\"" + value + "\""));
  }

  /** The spelling in configuration files and on the command line. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
