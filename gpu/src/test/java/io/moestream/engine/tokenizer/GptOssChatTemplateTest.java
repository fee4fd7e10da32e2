package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.tokenizer.chat.ChatTemplate;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gpt-oss's harmony chat template (src/test/resources/chat_templates/gpt_oss.jinja; where it comes from:
 * PROVENANCE.md there) renders to the strings its Jinja source defines under Python's jinja2 with
 * transformers' settings (trim_blocks, lstrip_blocks). Expected strings are worked out by reading the
 * template (the reasoning is in the comments).
 *
 * <p>How the template's whitespace comes out: every tag but the final {@code <|start|>assistant} line is
 * a {@code {{- }}} or {@code {%- %}} tag, so the newlines and indentation between them all go; the
 * generation prompt's newline goes with the {@code {%- endif -%}} after it. Every prompt opens with the
 * system message the template builds itself ({@code build_system_message}: the default model identity,
 * the knowledge cutoff, {@code strftime_now("%Y-%m-%d")}, reasoning effort "medium", the valid channels);
 * a first message of role system or developer becomes the developer message's "# Instructions".
 */
class GptOssChatTemplateTest {
  private static ChatTemplate harmony;

  /** build_system_message() with no model_identity, reasoning_effort, builtin_tools or tools given. */
  private static String system(String date) {
    return "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
        + "Knowledge cutoff: 2024-06\nCurrent date: " + date + "\n\nReasoning: medium\n\n"
        + "# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>";
  }

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = GptOssChatTemplateTest.class.getResourceAsStream("/chat_templates/gpt_oss.jinja")) {
      harmony = new ChatTemplate(new String(in.readAllBytes(), StandardCharsets.UTF_8), "<|startoftext|>",
          "<|return|>");
    }
  }

  /** Renders and checks against the expected string for today's date (rendered again if midnight passed). */
  private static void assertRenders(Function<String, String> expected, List<ChatMessage> messages, boolean prompt) {
    for (int attempt = 0; ; attempt++) {
      String before = LocalDate.now().toString();
      String rendered = harmony.render(messages, prompt);
      if (before.equals(LocalDate.now().toString()) || attempt > 0) {
        assertEquals(expected.apply(before), rendered);
        return;
      }
    }
  }

  @Test
  void systemAndUserWithTheGenerationPrompt() {
    // messages[0] is a system message: developer_message = its content, loop_messages = messages[1:].
    assertRenders(date -> system(date) + "<|start|>developer<|message|># Instructions\n\nBe brief.\n\n<|end|>"
        + "<|start|>user<|message|>Hi<|end|><|start|>assistant",
        List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hi")), true);
  }

  @Test
  void userOnlyHasNoDeveloperMessage() {
    // developer_message = "" and no tools: the developer block is skipped.
    assertRenders(date -> system(date) + "<|start|>user<|message|>Hi<|end|>",
        List.of(new ChatMessage("user", "Hi")), false);
  }

  @Test
  void multiTurnWithAssistant() {
    // An assistant turn that is not the last (or is followed by the generation prompt) is its final channel
    // ending in <|end|>; CoT is never rendered for inference.
    List<ChatMessage> messages = List.of(
        new ChatMessage("developer", "Answer in French."),
        new ChatMessage("user", "Q1"),
        new ChatMessage("assistant", "A1"),
        new ChatMessage("user", "Q2"));
    assertRenders(date -> system(date) + "<|start|>developer<|message|># Instructions\n\nAnswer in French.\n\n<|end|>"
        + "<|start|>user<|message|>Q1<|end|><|start|>assistant<|channel|>final<|message|>A1<|end|>"
        + "<|start|>user<|message|>Q2<|end|><|start|>assistant", messages, true);
  }

  @Test
  void aLastAssistantTurnWithoutGenerationPromptEndsInReturn() {
    // loop.last and not add_generation_prompt: the training form, <|return|> instead of <|end|>.
    List<ChatMessage> messages = List.of(new ChatMessage("user", "Q"), new ChatMessage("assistant", "A"));
    assertRenders(date -> system(date) + "<|start|>user<|message|>Q<|end|>"
        + "<|start|>assistant<|channel|>final<|message|>A<|return|>", messages, false);
    assertRenders(date -> system(date) + "<|start|>user<|message|>Q<|end|>"
        + "<|start|>assistant<|channel|>final<|message|>A<|end|><|start|>assistant", messages, true);
  }

  @Test
  void aDeveloperMessageAfterTheFirstIsDropped() {
    // Only messages[0] can be the developer message; the loop renders assistant, tool and user roles only.
    // An empty first system message is falsy: no developer block, and it is still taken off the loop.
    List<ChatMessage> messages = List.of(
        new ChatMessage("system", ""),
        new ChatMessage("user", "Q"),
        new ChatMessage("developer", "ignored"));
    assertRenders(date -> system(date) + "<|start|>user<|message|>Q<|end|><|start|>assistant", messages, true);
  }

  @Test
  void contentIsDataNotTemplate() {
    assertRenders(date -> system(date) + "<|start|>user<|message|>{{ 7*7 }} {% if true %}x{% endif %}<|end|>",
        List.of(new ChatMessage("user", "{{ 7*7 }} {% if true %}x{% endif %}")), false);
  }

  @Test
  void misuseRaisesTheTemplatesErrors() {
    TokenizerException tool = assertThrows(TokenizerException.class,
        () -> harmony.render(List.of(new ChatMessage("user", "Q"), new ChatMessage("tool", "42")), true));
    assertTrue(tool.getMessage().contains("Message has tool role, but there was no previous assistant message with a"
        + " tool call!"), tool.getMessage());
    TokenizerException channel = assertThrows(TokenizerException.class, () -> harmony.render(List.of(
        new ChatMessage("user", "Q"), new ChatMessage("assistant", "<|channel|>final<|message|>A")), true));
    assertTrue(channel.getMessage().contains("You have passed a message containing <|channel|> tags in the content"
        + " field."), channel.getMessage());
  }
}
