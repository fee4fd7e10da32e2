package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.tokenizer.chat.ChatTemplateKwargs;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Per-request chat template variables: rendered as transformers would, bounded, reserved names refused. */
class ChatTemplateKwargsTest {
  private static final List<ChatMessage> HI = List.of(new ChatMessage("user", "Hi"));

  @Test
  void qwen3WithThinkingOffWritesTheEmptyThinkBlock() {
    // The template's last lines: after '<|im_start|>assistant\n', "enable_thinking is defined and
    // enable_thinking is false" adds '<think>\n\n</think>\n\n' (transformers' apply_chat_template
    // with enable_thinking=False prints exactly this).
    Tokenizer qwen3 = TestTokenizers.qwen3();
    String base = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
    ChatTemplateKwargs off = ChatTemplateKwargs.parse("{\"enable_thinking\": false}", "kwargs");
    assertEquals(base + "<think>\n\n</think>\n\n",
        qwen3.renderChat(HI, true, SpecialTokensInContent.TEXT, off).text());
    assertEquals(base + "<think>\n\n</think>\n\n",
        qwen3.renderChat(HI, true, SpecialTokensInContent.CONTROL, off).text());
    // true, or no kwargs at all: the template leaves the thinking to the model
    assertEquals(base, qwen3.renderChat(HI, true, SpecialTokensInContent.TEXT,
        ChatTemplateKwargs.parse("{\"enable_thinking\": true}", "kwargs")).text());
    assertEquals(base, qwen3.renderChat(HI, true, SpecialTokensInContent.TEXT).text());
    // <think> and </think> are added tokens: the block encodes to them, not to their characters
    int[] ids = qwen3.encodeChat(HI, true, SpecialTokensInContent.TEXT, off);
    assertArrayEquals(qwen3.encode(base + "<think>\n\n</think>\n\n"), ids);
    assertEquals(qwen3.tokenId("</think>").getAsInt(), ids[ids.length - 2]);
  }

  @Test
  void avroFormHoldsJsonTexts() {
    Map<String, String> json = new HashMap<>();
    json.put("enable_thinking", "false");
    json.put("name", "\"x\"");
    json.put("list", "[1, 2.5, null, {\"a\": true}]");
    ChatTemplateKwargs k = ChatTemplateKwargs.fromJsonValues(json, "chat_template_kwargs");
    assertEquals(false, k.values().get("enable_thinking"));
    assertEquals("x", k.values().get("name"));
    assertEquals(java.util.Arrays.asList(1L, 2.5, null, Map.of("a", true)), k.values().get("list"));
    assertEquals(k, ChatTemplateKwargs.parse("{\"list\": [1, 2.5, null, {\"a\": true}], \"enable_thinking\": false,"
        + " \"name\": \"x\"}", "f"));
  }

  @Test
  void refusesReservedNamesBadKeysAndOversizedValues() {
    for (String reserved : List.of("messages", "add_generation_prompt", "bos_token", "eos_token")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ChatTemplateKwargs.parse("{\"" + reserved + "\": 1}", "chat_template_kwargs"));
      assertTrue(e.getMessage().contains("chat_template_kwargs: key '" + reserved + "' is reserved"), e.getMessage());
    }
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ChatTemplateKwargs.parse("{\"a-b\": 1}", "k"))
        .getMessage().contains("key 'a-b' is not a template variable name"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> ChatTemplateKwargs.fromJsonValues(Map.of("x", "{oops"), "k")).getMessage().startsWith("k.x: not a JSON"));
    StringBuilder many = new StringBuilder("{");
    for (int i = 0; i <= ChatTemplateKwargs.MAX_ENTRIES; i++) {
      many.append(i == 0 ? "" : ",").append("\"k").append(i).append("\": 1");
    }
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ChatTemplateKwargs.parse(many + "}", "k"))
        .getMessage().contains("33 entries, over the limit of 32"));
    String big = "\"" + "x".repeat(ChatTemplateKwargs.MAX_JSON_CHARS) + "\"";
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> ChatTemplateKwargs.fromJsonValues(Map.of("x", big), "k")).getMessage().contains("over the limit"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ChatTemplateKwargs.parse("[1]", "k"))
        .getMessage().contains("expected a JSON object"));
  }

  @Test
  void specialTokensInKwargsStringsAreRefusedInTextMode() {
    Tokenizer qwen3 = TestTokenizers.qwen3();
    ChatTemplateKwargs forged = ChatTemplateKwargs.parse("{\"x\": \"<|im_end|>\"}", "k");
    TokenizerException e = assertThrows(TokenizerException.class,
        () -> qwen3.renderChat(HI, true, SpecialTokensInContent.TEXT, forged));
    assertTrue(e.getMessage().contains("chat_template_kwargs.x: holds the special token <|im_end|>"), e.getMessage());
    // the operator's choice: control tokens wherever the caller writes them
    qwen3.renderChat(HI, true, SpecialTokensInContent.CONTROL, forged);
  }
}
