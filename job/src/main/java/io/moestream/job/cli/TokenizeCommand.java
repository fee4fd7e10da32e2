package io.moestream.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.tokenizer.ChatMessage;
import io.moestream.engine.tokenizer.ChatPrompt;
import io.moestream.engine.tokenizer.SpecialTokensInContent;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.engine.tokenizer.chat.ChatTemplateKwargs;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "tokenize",
    description = {"Prints the token ids of text as JSON.",
        "%nEach input gives one line, {\"ids\": [...]}. The model folder needs only tokenizer.json (and"
            + " tokenizer_config.json for --chat)."})
final class TokenizeCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Folder with tokenizer.json.")
  Path model;

  static final class Input {
    @Option(names = "--text", paramLabel = "<text>",
        description = "The text to tokenize (with --chat: one user message).")
    String text;

    @Option(names = "--input", paramLabel = "<file>", description = "A JSONL file: one {\"text\": \"...\"} per line, or"
        + " with --chat one {\"messages\": [{\"role\": ..., \"content\": ...}, ...]} per line.")
    Path file;
  }

  @ArgGroup(multiplicity = "1") Input input;

  @Option(names = "--chat", description = "Render the chat template first (with the generation prompt).")
  boolean chat;

  @Option(names = "--no-generation-prompt",
      description = "With --chat: leave out the assistant header at the end.")
  boolean noGenerationPrompt;

  @Option(names = "--special-tokens-in-content", defaultValue = "text", paramLabel = "<mode>",
      description = "With --chat: what special-token strings typed in message content become, text or control (the"
          + " template's own stay control tokens; plain --text always parses them). Default: ${DEFAULT-VALUE}.")
  String specialTokensInContent;

  @Option(names = "--add-special-tokens",
      description = "Add the post-processor's BOS/EOS (default: off, like add_special_tokens=False).")
  boolean addSpecialTokens;

  @Mixin ChatTemplateKwargsOptions templateOptions;

  private SpecialTokensInContent contentMode;
  private ChatTemplateKwargs kwargs;

  @Override
  public Integer call() throws IOException {
    contentMode = SpecialTokensInContent.parse(specialTokensInContent, "--special-tokens-in-content");
    kwargs = templateOptions.kwargs(chat);
    Tokenizer tokenizer = Tokenizer.load(model);
    if (chat && !tokenizer.hasChatTemplate()) {
      throw new IllegalArgumentException(model + ": tokenizer_config.json has no chat_template for --chat");
    }
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    if (input.text != null) {
      out.println(idsJson(tokenizer, chat
          ? tokenizer.renderChat(List.of(new ChatMessage("user", input.text)), !noGenerationPrompt, contentMode,
              kwargs)
          : ChatPrompt.plain(input.text)));
    } else {
      try (BufferedReader lines = Files.newBufferedReader(input.file, StandardCharsets.UTF_8)) {
        String line;
        int number = 0;
        while ((line = lines.readLine()) != null) {
          number++;
          if (!line.isBlank()) {
            out.println(idsJson(tokenizer, promptOf(tokenizer, line, input.file + ":" + number)));
          }
        }
      }
    }
    out.flush();
    return 0;
  }

  private ChatPrompt promptOf(Tokenizer tokenizer, String line, String where) {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(where + ": not valid JSON: " + e.getOriginalMessage());
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException(where + ": expected a JSON object, found " + line);
    }
    if (!chat) {
      JsonNode text = node.get("text");
      if (text == null || !text.isTextual()) {
        throw new IllegalArgumentException(where + ": expected {\"text\": \"...\"}");
      }
      return ChatPrompt.plain(text.asText());
    }
    JsonNode messages = node.get("messages");
    if (messages == null || !messages.isArray()) {
      throw new IllegalArgumentException(where + ": with --chat expected {\"messages\": [...]}");
    }
    List<ChatMessage> conversation = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
        throw new IllegalArgumentException(where + ": messages[" + i
            + "] needs string fields \"role\" and \"content\"");
      }
      conversation.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
    }
    return tokenizer.renderChat(conversation, !noGenerationPrompt, contentMode, kwargs);
  }

  private String idsJson(Tokenizer tokenizer, ChatPrompt prompt) {
    ObjectNode result = JSON.createObjectNode();
    ArrayNode ids = result.putArray("ids");
    for (int id : tokenizer.encode(prompt, addSpecialTokens)) {
      ids.add(id);
    }
    return result.toString();
  }
}
