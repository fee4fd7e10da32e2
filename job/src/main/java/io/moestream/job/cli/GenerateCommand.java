package io.moestream.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.SamplingDefaults;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.tokenizer.ChatMessage;
import io.moestream.engine.tokenizer.IncrementalDecoder;
import io.moestream.engine.tokenizer.SpecialTokensInContent;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.engine.tokenizer.chat.ChatTemplateKwargs;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate",
    description = {"Generates a continuation of a prompt and prints it.",
        "%nWith a tokenizer in the model folder the text is streamed as it is generated; without one the generated"
            + " token ids are printed, comma-separated, on one line. --json prints one JSON object instead."})
final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "<dir>", description = "Hugging Face model folder.")
  Path model;

  static final class Prompt {
    @Option(names = "--prompt", paramLabel = "<text>",
        description = "Prompt text (needs tokenizer.json in the model folder).")
    String text;

    @Option(names = "--token-ids", paramLabel = "<ids>", description = "Prompt as comma-separated token ids.")
    String tokenIds;
  }

  @ArgGroup(multiplicity = "1") Prompt prompt;

  @Option(names = "--chat", description = "Wrap --prompt as a user message in the model's chat template.")
  boolean chat;

  @Option(names = "--system", paramLabel = "<text>", description = "With --chat: a system message before the prompt.")
  String system;

  @Option(names = "--special-tokens-in-content", defaultValue = "text", paramLabel = "<mode>",
      description = "With --chat: what special-token strings (<|im_end|>, ...) in --prompt and --system become, text"
          + " or control (the template's own stay control tokens). Default: ${DEFAULT-VALUE}.")
  String specialTokensInContent;

  @Option(names = "--max-new-tokens", defaultValue = "64", paramLabel = "<n>",
      description = "Tokens to generate at most. Default: ${DEFAULT-VALUE}.")
  int maxNewTokens;

  // Sampling options left out stay unset (null): generation_config.json's values apply, as in the job.
  @Option(names = "--temperature", paramLabel = "<number>",
      description = "Sampling temperature; 0 is greedy. Default: the model folder's generation_config.json, else 0.")
  Float temperature;

  @Option(names = "--top-p", paramLabel = "<number>",
      description = "Nucleus mass, in (0, 1]. Default: generation_config.json, else 1.")
  Float topP;

  @Option(names = "--top-k", paramLabel = "<n>",
      description = "Keep the k most likely tokens; 0 is off. Default: generation_config.json, else 0.")
  Integer topK;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "<n>",
      description = "Seed of the sampling draws. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--experts-per-token", defaultValue = "0", paramLabel = "<n>",
      description = "Routed experts per token in every sparse layer, a shorthand for --policy fixed:<n> (default:"
          + " the config's num_experts_per_tok).")
  int expertsPerToken;

  @Option(names = "--json", description = "Print one JSON object (ids, text, finish_reason) instead.")
  boolean json;

  @Mixin ChatTemplateKwargsOptions templateOptions;

  @Mixin PolicyOptions policyOptions;

  @Mixin EngineOptionsMixin engineOptions;

  @Override
  public Integer call() throws Exception {
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("--max-new-tokens must be >= 1, found " + maxNewTokens);
    }
    Tokenizer tokenizer = Tokenizer.isPresent(model) ? Tokenizer.load(model) : null;
    int[] promptIds = promptIds(tokenizer);
    SamplingParams sampling = sampling();
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (LoadedModel loaded = policyOptions.load(model, engineOptions.toOptions())) {
      int k = ExpertsOption.check(expertsPerToken, loaded.config());
      Engine engine = loaded.engine();
      io.moestream.engine.policy.ExpertPolicy policy = policyOptions.policy(k);
      if (policy != null) {
        new io.moestream.engine.policy.PolicyDriver(engine, policy); // one request: no load, adaptive stays at level 0
      }
      engine.submit(new GenerationRequest("cli", promptIds, sampling, maxNewTokens, loaded.expertsPerLayer(0)));
      IncrementalDecoder decoder = tokenizer == null ? null : tokenizer.newIncrementalDecoder(true);
      List<Integer> generated = new ArrayList<>();
      StringBuilder text = new StringBuilder();
      String finish = null;
      while (finish == null && engine.hasWork()) {
        for (TokenEvent event : engine.step()) {
          if (event.tokenId() >= 0) {
            generated.add(event.tokenId());
            if (decoder != null) {
              String piece = decoder.accept(event.tokenId());
              text.append(piece);
              if (!json) {
                out.print(piece);
              }
            }
          }
          if (event.finished()) {
            finish = event.finishReason().name().toLowerCase();
            if (event.error() != null) {
              throw new IllegalStateException(event.error());
            }
          }
        }
      }
      if (decoder != null) {
        String rest = decoder.flush();
        text.append(rest);
        if (!json) {
          out.print(rest);
        }
      }
      if (json) {
        ObjectNode result = new ObjectMapper().createObjectNode();
        result.putPOJO("ids", generated);
        if (tokenizer != null) {
          result.put("text", text.toString());
        }
        result.put("finish_reason", finish);
        out.println(result);
      } else if (decoder == null) {
        out.println(generated.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse(""));
      } else {
        out.println();
      }
    }
    return 0;
  }

  /** The options given, generation_config.json's values for those left out (request > file > greedy). */
  SamplingParams sampling() {
    return SamplingDefaults.read(model).resolve(temperature, topP, topK, seed);
  }

  int[] promptIds(Tokenizer tokenizer) {
    SpecialTokensInContent contentMode =
        SpecialTokensInContent.parse(specialTokensInContent, "--special-tokens-in-content");
    ChatTemplateKwargs kwargs = templateOptions.kwargs(chat);
    if (prompt.tokenIds != null) {
      if (chat) {
        throw new IllegalArgumentException("--chat needs --prompt text, not --token-ids");
      }
      return TokenIds.parse(prompt.tokenIds, "--token-ids");
    }
    if (tokenizer == null) {
      throw new IllegalArgumentException(model + " has no tokenizer.json" + Tokenizer.absenceNote(model)
          + ": give the prompt as --token-ids");
    }
    if (!chat) {
      // As transformers' tokenizer(text) does by default: BOS where the tokenizer defines one.
      return tokenizer.encode(prompt.text, true);
    }
    if (!tokenizer.hasChatTemplate()) {
      throw new IllegalArgumentException(model + ": tokenizer_config.json has no chat_template for --chat");
    }
    List<ChatMessage> messages = new ArrayList<>();
    if (system != null) {
      messages.add(new ChatMessage("system", system));
    }
    messages.add(new ChatMessage("user", prompt.text));
    return tokenizer.encodeChat(messages, true, contentMode, kwargs);
  }

}
