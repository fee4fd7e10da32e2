package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.tokenizer.chat.ChatTemplate;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Qwen3 and DeepSeek-V3 chat templates render to the strings their Jinja source defines under
 * Python's jinja2 (expected strings worked out by reading the templates in tokenizer_config.json).
 */
class ChatTemplateTest {
  private static final List<ChatMessage> CONVERSATION = List.of(
      new ChatMessage("system", "You are helpful."),
      new ChatMessage("user", "Hi"),
      new ChatMessage("assistant", "Hello!"));

  @Test
  void qwen3SystemUserAssistant() {
    // The last assistant turn comes after the last user query, so the template gives it an empty
    // <think> block; the system message is emitted before the loop (which skips it as loop.first).
    String expected = "<|im_start|>system\nYou are helpful.<|im_end|>\n"
        + "<|im_start|>user\nHi<|im_end|>\n"
        + "<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>\n";
    Tokenizer qwen3 = TestTokenizers.qwen3();
    assertTrue(qwen3.hasChatTemplate());
    assertEquals(expected, qwen3.applyChatTemplate(CONVERSATION, false));
    assertEquals(expected + "<|im_start|>assistant\n", qwen3.applyChatTemplate(CONVERSATION, true));
  }

  @Test
  void qwen3DropsReasoningOfEarlierTurns() {
    // The assistant turn precedes the last user query (ns.last_query_index = 2), so only the text
    // after </think>, left-stripped of newlines, is kept.
    List<ChatMessage> messages = List.of(
        new ChatMessage("user", "Q1"),
        new ChatMessage("assistant", "<think>\nr1\n</think>\n\nA1"),
        new ChatMessage("user", "Q2"));
    assertEquals("<|im_start|>user\nQ1<|im_end|>\n"
            + "<|im_start|>assistant\nA1<|im_end|>\n"
            + "<|im_start|>user\nQ2<|im_end|>\n"
            + "<|im_start|>assistant\n",
        TestTokenizers.qwen3().applyChatTemplate(messages, true));
  }

  @Test
  void qwen3KeepsReasoningOfTheLastTurn() {
    List<ChatMessage> messages = List.of(
        new ChatMessage("user", "Q"),
        new ChatMessage("assistant", "<think>\nstep\n\n</think>\n\nA"));
    assertEquals("<|im_start|>user\nQ<|im_end|>\n"
            + "<|im_start|>assistant\n<think>\nstep\n</think>\n\nA<|im_end|>\n",
        TestTokenizers.qwen3().applyChatTemplate(messages, false));
  }

  @Test
  void qwen3ToolResponseBecomesUserTurn() {
    List<ChatMessage> messages = List.of(
        new ChatMessage("user", "What's the weather?"),
        new ChatMessage("tool", "{\"temp\": 20}"));
    assertEquals("<|im_start|>user\nWhat's the weather?<|im_end|>\n"
            + "<|im_start|>user\n<tool_response>\n{\"temp\": 20}\n</tool_response><|im_end|>\n"
            + "<|im_start|>assistant\n",
        TestTokenizers.qwen3().applyChatTemplate(messages, true));
  }

  @Test
  void deepseekV3SystemUserAssistant() {
    Tokenizer deepseek = TestTokenizers.deepseekV3();
    assertEquals("<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜>Hello!"
            + "<｜end▁of▁sentence｜>",
        deepseek.applyChatTemplate(CONVERSATION, false));
    assertEquals("<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜>",
        deepseek.applyChatTemplate(CONVERSATION.subList(0, 2), true));
  }

  @Test
  void chatPromptTokenizesToTheSpecialTokenIds() {
    Tokenizer qwen3 = TestTokenizers.qwen3();
    String prompt = qwen3.applyChatTemplate(List.of(new ChatMessage("user", "What is 2+2?")), true);
    // Same ids as the reference vector for this exact text.
    assertEquals(List.of(151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198, 151644,
        77091, 198), java.util.Arrays.stream(qwen3.encode(prompt)).boxed().toList());
  }

  @Test
  void raiseExceptionIsReportedWithItsMessage() {
    ChatTemplate template = new ChatTemplate(
        "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with user') }}"
            + "{% endif %}ok", "", "");
    TokenizerException e = assertThrows(TokenizerException.class,
        () -> template.render(List.of(new ChatMessage("assistant", "x")), false));
    assertTrue(e.getMessage().contains("Conversation must start with user"), e.getMessage());
    assertEquals("ok", template.render(List.of(new ChatMessage("user", "x")), false));
  }

  @Test
  void pythonStringMethodsAndFilters() {
    ChatTemplate template = new ChatTemplate(
        "{% for m in messages[::-1] %}{{ loop.index0 }}:{{ m.content.strip() }}|"
            + "{{ m.content.split(',')|length }}|{{ m.content.upper() }}|{{ m | tojson }};"
            + "{% endfor %}", "", "");
    assertEquals("0:b, c|2|  B, C|{\"role\": \"user\", \"content\": \"  b, c\"};"
            + "1:ä|1|Ä|{\"role\": \"system\", \"content\": \"ä\"};",
        template.render(List.of(new ChatMessage("system", "ä"), new ChatMessage("user", "  b, c")),
            false));
  }

  @Test
  void missingTemplateIsAClearError() {
    Tokenizer noTemplate = TestTokenizers.named("sentencepiece_bpe");
    TokenizerException e = assertThrows(TokenizerException.class,
        () -> noTemplate.applyChatTemplate(CONVERSATION, true));
    assertTrue(e.getMessage().contains("chat_template"), e.getMessage());
  }
}
