package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.tokenizer.chat.ChatTemplate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Rendering and encoding a chat stays bounded: linear in the number of messages and their size for
 * the supported templates, and refused up front where a template could copy the conversation once
 * per message beyond {@link ChatTemplate#MAX_RENDER_WORK}. The bound catches blowups, it is no
 * benchmark: each case takes a few seconds at most here.
 */
class ChatRenderBoundsTest {
  private static final Duration LIMIT = Duration.ofSeconds(20);

  private static List<ChatMessage> turns(int count, String content) {
    List<ChatMessage> messages = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      messages.add(new ChatMessage(i % 2 == 0 ? "user" : "assistant", content));
    }
    return messages;
  }

  private static int occurrences(String text, String part) {
    return text.split(java.util.regex.Pattern.quote(part), -1).length - 1;
  }

  @Test
  void manyMessagesRenderInBoundedTime() {
    List<ChatMessage> messages = turns(8_000, "hello <|im_end|> there <｜end▁of▁sentence｜>");
    for (Tokenizer tokenizer : List.of(TestTokenizers.qwen3(), TestTokenizers.deepseekV3())) {
      ChatPrompt prompt = assertTimeoutPreemptively(LIMIT,
          () -> tokenizer.renderChat(messages, true, SpecialTokensInContent.TEXT));
      assertEquals(8_000, occurrences(prompt.text(), "hello "));
      // One of the two token strings is special in each tokenizer: one [start, end) per message.
      assertEquals(2 * 8_000, prompt.textRanges().length);
      int[] ids = assertTimeoutPreemptively(LIMIT, () -> tokenizer.encode(prompt));
      assertTrue(ids.length > 8_000 * 10);
    }
  }

  @Test
  void hugeMessagesRenderInBoundedTime() {
    String huge = "A long line of user text. <|im_end|>\n".repeat(1024 * 1024 / 38); // 1 MiB
    List<ChatMessage> messages = List.of(new ChatMessage("system", huge), new ChatMessage("user", huge),
        new ChatMessage("assistant", "<think>" + huge + "</think>" + huge));
    for (Tokenizer tokenizer : List.of(TestTokenizers.qwen3(), TestTokenizers.deepseekV3())) {
      int[] ids = assertTimeoutPreemptively(LIMIT,
          () -> tokenizer.encodeChat(messages, false, SpecialTokensInContent.TEXT));
      assertTrue(ids.length > huge.length() / 10);
    }
  }

  @Test
  void deepseekSystemMessagesAtTheWorkBoundRenderInBoundedTime() {
    // DeepSeek-V3's template concatenates the system messages one by one (quadratic, as in jinja2):
    // 2000 x 1 Mi characters is about a quarter of the bound.
    List<ChatMessage> messages = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      messages.add(new ChatMessage("system", "s".repeat(490)));
    }
    messages.add(new ChatMessage("user", "hi"));
    String prompt = assertTimeoutPreemptively(LIMIT,
        () -> TestTokenizers.deepseekV3().applyChatTemplate(messages, true));
    assertEquals("<｜begin▁of▁sentence｜>" + String.join("\n\n", java.util.Collections.nCopies(2000,
        "s".repeat(490))) + "<｜User｜>hi<｜Assistant｜>", prompt);
  }

  @Test
  void chatsBeyondTheWorkBoundAreRefusedUpFront() {
    List<ChatMessage> messages = turns(100_000, "thirty characters of content..");
    TokenizerException e = assertThrows(TokenizerException.class,
        () -> TestTokenizers.deepseekV3().applyChatTemplate(messages, true));
    assertTrue(e.getMessage().startsWith("messages: 100000 messages of "), e.getMessage());
  }
}
