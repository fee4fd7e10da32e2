package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.moestream.engine.tokenizer.chat.ChatTemplate;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GLM-4.5's chat template (src/test/resources/chat_templates/glm4_moe.jinja; where it comes from:
 * PROVENANCE.md there) renders to the strings its Jinja source defines under Python's jinja2 with
 * transformers' settings (trim_blocks, lstrip_blocks). Expected strings are worked out by reading the
 * template (the reasoning is in each test's comments); Python's jinja2 3.1.6 gives the same strings.
 *
 * <p>How the template's whitespace comes out: {@code [gMASK]<sop>} opens every prompt; the
 * {@code {%- ... -%}} tags around the tools block, the macro and the namespace loop eat every newline
 * before the first message; each role tag is followed by "\n" and the message text (the "\n" after
 * {@code <|user|>} survives because the following {@code {% set %}} has no dash); messages are not
 * separated otherwise. The generation prompt is {@code <|assistant|>} alone (thinking on: no
 * {@code enable_thinking} is passed).
 */
class GlmChatTemplateTest {
  private static ChatTemplate glm;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = GlmChatTemplateTest.class.getResourceAsStream("/chat_templates/glm4_moe.jinja")) {
      glm = new ChatTemplate(new String(in.readAllBytes(), StandardCharsets.UTF_8), "", "<|endoftext|>");
    }
  }

  @Test
  void systemUserAssistant() {
    // The assistant turn comes after the last user turn but has no reasoning: the else branch emits
    // "\n<think></think>", then "\n" + content.strip().
    List<ChatMessage> messages = List.of(
        new ChatMessage("system", "You are helpful."),
        new ChatMessage("user", "Hi"),
        new ChatMessage("assistant", "Hello!"));
    assertEquals("[gMASK]<sop><|system|>\nYou are helpful.<|user|>\nHi<|assistant|>\n<think></think>\nHello!",
        glm.render(messages, false));
    assertEquals("[gMASK]<sop><|system|>\nYou are helpful.<|user|>\nHi<|assistant|>",
        glm.render(messages.subList(0, 2), true));
  }

  @Test
  void reasoningIsKeptOnlyAfterTheLastUserTurn() {
    // ns.last_user_index = 2. The assistant at index 1 has its <think> block cut from the content
    // (content.split('</think>')[-1].lstrip('\n') = "A1") and gets an empty one; the one at index 3
    // keeps reasoning_content "r2" (split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')).
    List<ChatMessage> messages = List.of(
        new ChatMessage("user", "Q1"),
        new ChatMessage("assistant", "<think>\nr1\n</think>\n\nA1"),
        new ChatMessage("user", "Q2"),
        new ChatMessage("assistant", "<think>r2</think>A2"));
    assertEquals("[gMASK]<sop><|user|>\nQ1<|assistant|>\n<think></think>\nA1"
        + "<|user|>\nQ2<|assistant|>\n<think>r2</think>\nA2", glm.render(messages, false));
  }

  @Test
  void consecutiveToolResultsShareOneObservationTag() {
    // <|observation|> only where the previous message is not a tool; each result in <tool_response>
    // between newlines; the assistant's content is stripped of surrounding spaces.
    List<ChatMessage> messages = List.of(
        new ChatMessage("user", "weather?"),
        new ChatMessage("tool", "sunny"),
        new ChatMessage("tool", "20C"),
        new ChatMessage("assistant", "  It is sunny.  "));
    assertEquals("[gMASK]<sop><|user|>\nweather?<|observation|>\n<tool_response>\nsunny\n</tool_response>"
        + "\n<tool_response>\n20C\n</tool_response><|assistant|>\n<think></think>\nIt is sunny.<|assistant|>",
        glm.render(messages, true));
  }

  @Test
  void emptyAssistantContentLeavesOnlyTheThinkBlock() {
    assertEquals("[gMASK]<sop><|user|>\nx<|assistant|>\n<think></think>",
        glm.render(List.of(new ChatMessage("user", "x"), new ChatMessage("assistant", "")), false));
  }

  @Test
  void messageTextIsPrintedVerbatim() {
    // Content that looks like template code or holds the template's own tags is data, not code.
    assertEquals("[gMASK]<sop><|user|>\n{{ 7*7 }} <|assistant|> /nothink<|assistant|>",
        glm.render(List.of(new ChatMessage("user", "{{ 7*7 }} <|assistant|> /nothink")), true));
  }
}
