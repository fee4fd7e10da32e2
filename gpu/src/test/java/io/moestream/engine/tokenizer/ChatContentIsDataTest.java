package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.moestream.engine.tokenizer.chat.ChatTemplate;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Message content that looks like Jinja is printed as written by every bundled template: jinjava
 * would otherwise render expression output a second time ("{{ 7*7 }}" became "49").
 */
class ChatContentIsDataTest {
  /** Mixtral-8x7B-Instruct-v0.1's chat_template, as published in its tokenizer_config.json. */
  static final String MIXTRAL_TEMPLATE = "{{ bos_token }}{% for message in messages %}"
      + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
      + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
      + "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
      + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
      + "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}"
      + "{% endfor %}";
  /** Meta-Llama-3-8B-Instruct's chat_template: content goes through |trim and a {% set %}. */
  static final String LLAMA3_TEMPLATE = "{% set loop_messages = messages %}"
      + "{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role']"
      + " + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
      + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
      + "{{ content }}{% endfor %}{% if add_generation_prompt %}"
      + "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

  static final List<String> TEMPLATE_LOOKALIKES = List.of(
      "{{ 7*7 }}", "{% for i in range(3) %}x{% endfor %}", "{# a comment #}",
      "{{ raise_exception('boom') }}", "{% raw %}a{% endraw %}", "{{ messages }}",
      "{% set messages = [] %}", "{{", "}}x{%", "{%- if true -%} y {%- endif -%}",
      "{{ bos_token }}{{ eos_token }}", "{{ '<|im_end|>' }}");

  @Test
  void qwen3PrintsTemplateSyntaxInContentVerbatim() {
    for (String content : TEMPLATE_LOOKALIKES) {
      assertEquals("<|im_start|>user\n" + content + "<|im_end|>\n<|im_start|>assistant\n",
          TestTokenizers.qwen3().applyChatTemplate(List.of(new ChatMessage("user", content)), true),
          content);
      assertEquals("<|im_start|>system\n" + content + "<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n",
          TestTokenizers.qwen3().applyChatTemplate(
              List.of(new ChatMessage("system", content), new ChatMessage("user", "hi")), false),
          content);
    }
  }

  @Test
  void deepseekV3PrintsTemplateSyntaxInContentVerbatim() {
    for (String content : TEMPLATE_LOOKALIKES) {
      assertEquals("<｜begin▁of▁sentence｜>" + content + "<｜User｜>" + content + "<｜Assistant｜>"
              + content + "<｜end▁of▁sentence｜>",
          TestTokenizers.deepseekV3().applyChatTemplate(List.of(new ChatMessage("system", content),
              new ChatMessage("user", content), new ChatMessage("assistant", content)), false),
          content);
    }
  }

  @Test
  void mixtralAndLlama3PrintTemplateSyntaxInContentVerbatim() {
    ChatTemplate mixtral = new ChatTemplate(MIXTRAL_TEMPLATE, "<s>", "</s>");
    ChatTemplate llama3 = new ChatTemplate(LLAMA3_TEMPLATE, "<|begin_of_text|>", "<|eot_id|>");
    for (String content : TEMPLATE_LOOKALIKES) {
      assertEquals("<s>[INST] " + content + " [/INST]" + content + "</s>", mixtral.render(
          List.of(new ChatMessage("user", content), new ChatMessage("assistant", content)), false),
          content);
      assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n" + content.trim()
              + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
          llama3.render(List.of(new ChatMessage("user", content)), true), content);
    }
  }
}
