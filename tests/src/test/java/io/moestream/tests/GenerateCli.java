package io.moestream.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import io.moestream.job.cli.MoestreamCli;
import io.moestream.operators.codec.UnsetSampling;
import io.moestream.schemas.ChatMessage;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs {@code ./moestream generate --json} in this JVM for a request and returns what it printed. */
final class GenerateCli {
  private static final ObjectMapper JSON = new ObjectMapper();

  private GenerateCli() {}

  static JsonNode run(Path model, InferenceRequest r) throws Exception {
    return run(model, r, List.of());
  }

  /** The same with more options of {@code generate} (e.g. pruning). */
  static JsonNode run(Path model, InferenceRequest r, List<String> more) throws Exception {
    Sampling s = r.getSampling();
    List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "--json", "--threads", "1",
        "--max-new-tokens", Integer.toString(r.getMaxNewTokens()), "--seed", Long.toString(s.getSeed())));
    // unset fields stay unset: generate takes them from generation_config.json as the job does
    if (UnsetSampling.temperature(s) != null) {
      args.addAll(List.of("--temperature", Float.toString(s.getTemperature())));
    }
    if (UnsetSampling.topP(s) != null) {
      args.addAll(List.of("--top-p", Float.toString(s.getTopP())));
    }
    if (UnsetSampling.topK(s) != null) {
      args.addAll(List.of("--top-k", Integer.toString(s.getTopK())));
    }
    if (r.getPrompt() != null) {
      args.addAll(List.of("--prompt", r.getPrompt()));
    } else {
      List<ChatMessage> messages = r.getMessages();
      ChatMessage user = messages.get(messages.size() - 1);
      args.addAll(List.of("--chat", "--prompt", user.getContent()));
      if (messages.size() == 2) {
        args.addAll(List.of("--system", messages.get(0).getContent()));
      }
      if (r.getChatTemplateKwargs() != null) {
        // each value is a JSON text: the object is those texts under their keys
        StringBuilder json = new StringBuilder("{");
        r.getChatTemplateKwargs().forEach((key, value) ->
            json.append(json.length() > 1 ? ", " : "").append(TextNode.valueOf(key)).append(": ").append(value));
        args.addAll(List.of("--chat-template-kwargs", json.append("}").toString()));
      }
    }
    args.addAll(more);
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int exit;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      exit = MoestreamCli.execute(args.toArray(new String[0]));
    } finally {
      System.setOut(stdout);
    }
    if (exit != 0) {
      throw new AssertionError("generate exited " + exit + " for " + args);
    }
    return JSON.readTree(captured.toString(StandardCharsets.UTF_8));
  }
}
