package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.tokenizer.BundledTokenizers;
import io.moestream.engine.tokenizer.ChatMessage;
import io.moestream.engine.tokenizer.SpecialTokensInContent;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.engine.tokenizer.chat.ChatTemplateKwargs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * generate: sampling options left out come from generation_config.json; generate --chat and
 * tokenize --chat take template kwargs.
 */
class GenerateDefaultsCliTest {
  @TempDir
  static Path root;
  /** Qwen3's sampling defaults: do_sample true, temperature 0.6, top_p 0.95, top_k 20. */
  static Path model;
  /** The same values with do_sample false: greedy unless asked otherwise. */
  static Path greedyModel;
  static Tokenizer qwen3;

  @BeforeAll
  static void setUp() throws Exception {
    model = root.resolve("sampling");
    BundledTokenizers.copyQwen3To(model);
    Files.writeString(model.resolve("generation_config.json"),
        "{\"do_sample\": true, \"temperature\": 0.6, \"top_k\": 20, \"top_p\": 0.95}");
    greedyModel = root.resolve("greedy");
    BundledTokenizers.copyQwen3To(greedyModel);
    Files.writeString(greedyModel.resolve("generation_config.json"),
        "{\"do_sample\": false, \"temperature\": 0.6, \"top_k\": 20, \"top_p\": 0.95}");
    qwen3 = Tokenizer.load(model);
  }

  private static GenerateCommand parse(String... args) {
    GenerateCommand command = new GenerateCommand();
    new CommandLine(command).parseArgs(args);
    return command;
  }

  @Test
  void optionsLeftOutTakeGenerationConfig() {
    String m = model.toString();
    assertEquals(new SamplingParams(0.6f, 0.95f, 20, 0), parse("--model", m, "--prompt", "x").sampling());
    assertEquals(new SamplingParams(0f, 0.95f, 20, 4),
        parse("--model", m, "--prompt", "x", "--temperature", "0", "--seed", "4").sampling());
    assertEquals(new SamplingParams(0.6f, 1f, 0, 0),
        parse("--model", m, "--prompt", "x", "--top-p", "1", "--top-k", "0").sampling());
    String greedy = greedyModel.toString();
    assertEquals(new SamplingParams(0f, 0.95f, 20, 0), parse("--model", greedy, "--prompt", "x").sampling());
    assertEquals(new SamplingParams(0.8f, 0.95f, 20, 0),
        parse("--model", greedy, "--prompt", "x", "--temperature", "0.8").sampling());
  }

  @Test
  void chatTemplateKwargsAndArgsReachTheTemplate() {
    String m = model.toString();
    int[] noThinking = qwen3.encodeChat(List.of(new ChatMessage("user", "Hi")), true, SpecialTokensInContent.TEXT,
        ChatTemplateKwargs.parse("{\"enable_thinking\": false}", "k"));
    assertArrayEquals(noThinking, parse("--model", m, "--chat", "--prompt", "Hi",
        "--chat-template-kwargs", "{\"enable_thinking\": false}").promptIds(qwen3));
    assertArrayEquals(noThinking, parse("--model", m, "--chat", "--prompt", "Hi",
        "--chat-template-arg", "enable_thinking=false").promptIds(qwen3));
    // an argument wins over the JSON object
    assertArrayEquals(noThinking, parse("--model", m, "--chat", "--prompt", "Hi",
        "--chat-template-kwargs", "{\"enable_thinking\": true}", "--chat-template-arg", "enable_thinking=false")
        .promptIds(qwen3));
    assertEquals(noThinking.length - 4, parse("--model", m, "--chat", "--prompt", "Hi").promptIds(qwen3).length);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse("--model", m, "--chat",
        "--prompt", "Hi", "--chat-template-arg", "add_generation_prompt=false").promptIds(qwen3));
    assertTrue(e.getMessage().contains("key 'add_generation_prompt' is reserved"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> parse("--model", m, "--prompt", "Hi",
        "--chat-template-arg", "enable_thinking=false").promptIds(qwen3));
    assertTrue(e.getMessage().contains("need --chat"), e.getMessage());
  }

  @Test
  void tokenizeChatTakesTheSameKwargs() {
    int[] noThinking = qwen3.encodeChat(List.of(new ChatMessage("user", "Hi")), true, SpecialTokensInContent.TEXT,
        ChatTemplateKwargs.parse("{\"enable_thinking\": false}", "k"));
    java.io.PrintStream saved = System.out;
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
    int code;
    try {
      code = MoestreamCli.execute("tokenize", "--model", model.toString(), "--chat", "--text", "Hi",
          "--chat-template-arg", "enable_thinking=false");
    } finally {
      System.setOut(saved);
    }
    assertEquals(0, code);
    StringBuilder expected = new StringBuilder("{\"ids\":[");
    for (int i = 0; i < noThinking.length; i++) {
      expected.append(i == 0 ? "" : ",").append(noThinking[i]);
    }
    assertEquals(expected + "]}", out.toString(java.nio.charset.StandardCharsets.UTF_8).trim());
  }
}
