package io.moestream.job.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.moestream.engine.tokenizer.chat.ChatTemplateKwargs;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** --chat-template-kwargs and --chat-template-arg: a request's chat_template_kwargs on the command line. */
final class ChatTemplateKwargsOptions {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Option(names = "--chat-template-kwargs", paramLabel = "<json>",
      description = "With --chat: extra chat template variables as a JSON object, e.g. '{\"enable_thinking\": false}'"
          + " (Qwen3).")
  String json;

  @Option(names = "--chat-template-arg", paramLabel = "<key=value>",
      description = "With --chat: one chat template variable (repeatable; wins over --chat-template-kwargs); the"
          + " value is read as JSON when it is JSON (false, 3, [1]), else as a string.")
  List<String> args = new ArrayList<>();

  /** --chat-template-kwargs, then each --chat-template-arg over it, checked as a request's would be. */
  ChatTemplateKwargs kwargs(boolean chat) {
    if (json == null && args.isEmpty()) {
      return ChatTemplateKwargs.NONE;
    }
    if (!chat) {
      throw new IllegalArgumentException("--chat-template-kwargs and --chat-template-arg need --chat");
    }
    ObjectNode merged = MAPPER.createObjectNode();
    if (json != null) {
      JsonNode given;
      try {
        given = MAPPER.readTree(json);
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException("--chat-template-kwargs: not a JSON object: " + e.getOriginalMessage());
      }
      if (given == null || !given.isObject()) {
        throw new IllegalArgumentException("--chat-template-kwargs: expected a JSON object, found " + json);
      }
      merged.setAll((ObjectNode) given);
    }
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq < 1) {
        throw new IllegalArgumentException("--chat-template-arg: expected KEY=VALUE, found '" + arg + "'");
      }
      String value = arg.substring(eq + 1);
      JsonNode node;
      try {
        node = MAPPER.readTree(value);
      } catch (JsonProcessingException e) {
        node = null; // not JSON: the text itself, so name=Ada needs no quotes
      }
      merged.set(arg.substring(0, eq), node == null || node.isMissingNode() ? TextNode.valueOf(value) : node);
    }
    return ChatTemplateKwargs.fromJson(merged, args.isEmpty() ? "--chat-template-kwargs" : "--chat-template-arg");
  }
}
