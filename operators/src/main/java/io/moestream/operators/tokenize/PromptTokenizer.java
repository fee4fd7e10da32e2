package io.moestream.operators.tokenize;

import io.moestream.engine.tokenizer.ChatMessage;
import io.moestream.engine.tokenizer.SpecialTokensInContent;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.engine.tokenizer.chat.ChatTemplateKwargs;
import io.moestream.schemas.InferenceRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a request's prompt into token ids exactly as {@code ./moestream generate} does: raw text is
 * encoded with the tokenizer's special tokens (its post-processor's BOS, as transformers does by
 * default), every special-token string in it a control token (the caller wrote the whole prompt);
 * chat messages are rendered with the model's chat template, the generation prompt appended, then
 * encoded without BOS (the template writes its own special tokens), special-token strings typed in
 * message content as {@code specialTokensInContent} says (text by default). The request's
 * chat_template_kwargs are bound as template variables.
 */
public final class PromptTokenizer {
  private final Tokenizer tokenizer;
  private final int contextLength;
  private final SpecialTokensInContent specialTokensInContent;

  public PromptTokenizer(Tokenizer tokenizer, int contextLength) {
    this(tokenizer, contextLength, SpecialTokensInContent.TEXT);
  }

  public PromptTokenizer(Tokenizer tokenizer, int contextLength, SpecialTokensInContent specialTokensInContent) {
    this.tokenizer = tokenizer;
    this.contextLength = contextLength;
    this.specialTokensInContent = specialTokensInContent;
  }

  /** @throws IllegalArgumentException with the reason when the prompt cannot be served */
  public int[] promptIds(InferenceRequest request) {
    int[] ids;
    if (request.getMessages() != null) {
      if (!tokenizer.hasChatTemplate()) {
        throw new IllegalArgumentException("messages: the model's tokenizer has no chat template; send a prompt");
      }
      if (request.getMessages().size() >= contextLength) {
        // Each message renders to at least one token in the supported templates: refused before rendering.
        throw new IllegalArgumentException("messages: " + request.getMessages().size()
            + " messages do not fit the model's context of " + contextLength + " positions");
      }
      List<ChatMessage> messages = new ArrayList<>();
      for (io.moestream.schemas.ChatMessage m : request.getMessages()) {
        messages.add(new ChatMessage(m.getRole(), m.getContent()));
      }
      // the validator checked the kwargs; parsed again here, where the template needs their values
      ChatTemplateKwargs kwargs = ChatTemplateKwargs.fromJsonValues(request.getChatTemplateKwargs(),
          "chat_template_kwargs");
      ids = tokenizer.encodeChat(messages, true, specialTokensInContent, kwargs);
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
