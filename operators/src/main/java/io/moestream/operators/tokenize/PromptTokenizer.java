package io.moestream.operators.tokenize;

import io.moestream.engine.tokenizer.ChatMessage;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.schemas.InferenceRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a request's prompt into token ids exactly as {@code ./moestream generate} does: raw text is
 * encoded with the tokenizer's special tokens (its post-processor's BOS, as transformers does by
 * default); chat messages are rendered with the model's chat template, the generation prompt
 * appended, then encoded as is (the template writes its own special tokens).
 */
public final class PromptTokenizer {
  private final Tokenizer tokenizer;
  private final int contextLength;

  public PromptTokenizer(Tokenizer tokenizer, int contextLength) {
    this.tokenizer = tokenizer;
    this.contextLength = contextLength;
  }

  /** @throws IllegalArgumentException with the reason when the prompt cannot be served */
  public int[] promptIds(InferenceRequest request) {
    int[] ids;
    if (request.getMessages() != null) {
      if (!tokenizer.hasChatTemplate()) {
        throw new IllegalArgumentException("messages: the model's tokenizer has no chat template; send a prompt");
      }
      List<ChatMessage> messages = new ArrayList<>();
      for (io.moestream.schemas.ChatMessage m : request.getMessages()) {
        messages.add(new ChatMessage(m.getRole(), m.getContent()));
      }
      ids = tokenizer.encode(tokenizer.applyChatTemplate(messages, true));
    } else {
      ids = tokenizer.encode(request.getPrompt(), true);
    }
    if (ids.length == 0) {
      throw new IllegalArgumentException("prompt: encodes to no tokens");
    }
    if (ids.length >= contextLength) {
      throw new IllegalArgumentException("prompt: " + ids.length + " tokens do not fit the model's context of "
          + contextLength + " positions");
    }
    return ids;
  }
}
