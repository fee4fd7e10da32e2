package io.moestream.engine.tokenizer;

import java.util.Objects;

/** One turn of a conversation for a chat template: "system", "user", "assistant" or "tool". */
public record ChatMessage(String role, String content) {
  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
  }
}
