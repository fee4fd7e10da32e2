package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.operators.codec.RequestJson;
import io.moestream.schemas.ChatMessage;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model folder whose generation_config.json samples (do_sample true): requests that leave the
 * sampling values unset are answered with the file's values by the job's pipeline (corpus mode,
 * JSONL and text lines) and by {@code generate}, the same tokens as the reference resolved from the
 * file, and not the greedy answer; a request's own values win; a chat request's
 * chat_template_kwargs (Qwen3's enable_thinking) reach the template on both paths.
 */
class GenerationConfigEndToEndTest {
  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path tmp;
  static Path model;

  @BeforeAll
  static void writeModel() throws Exception {
    model = DemoModel.write(DemoModel.spec().withMaxPositionEmbeddings(256), tmp.resolve("model"));
    Files.writeString(model.resolve("generation_config.json"),
        "{\"do_sample\": true, \"temperature\": 1.0, \"top_p\": 0.9, \"top_k\": 40, \"repetition_penalty\": 1.1}");
  }

  private static InferenceRequest prompt(String id, String text, Sampling sampling) {
    return InferenceRequest.newBuilder().setRequestId(id).setPrompt(text).setMaxNewTokens(8).setSampling(sampling)
        .build();
  }

  private static InferenceRequest chat(String id, Map<String, String> kwargs) {
    return InferenceRequest.newBuilder().setRequestId(id).setMaxNewTokens(8)
        .setMessages(List.of(ChatMessage.newBuilder().setRole("user").setContent("Name a river.").build()))
        .setSampling(Sampling.newBuilder().setSeed(3).build()).setChatTemplateKwargs(kwargs).build();
  }

  @Test
  void unsetSamplingTakesTheFilesValuesOnEveryPath() throws Exception {
    List<InferenceRequest> requests = new ArrayList<>();
    List<InferenceRequest> greedyTwins = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      String text = "Stream number " + i + " flows";
      requests.add(prompt("unset-" + i, text, Sampling.newBuilder().setSeed(i).build()));
      greedyTwins.add(prompt("unset-" + i, text, Sampling.newBuilder().setTemperature(0f).setSeed(i).build()));
    }
    requests.add(prompt("explicit-greedy", "Stream number 0 flows",
        Sampling.newBuilder().setTemperature(0f).setTopP(1f).setTopK(0).build()));
    requests.add(chat("chat-thinking", null));
    requests.add(chat("chat-no-thinking", Map.of("enable_thinking", "false")));

    Path input = Files.createDirectories(tmp.resolve("input"));
    Files.write(input.resolve("requests.jsonl"), requests.stream().map(RequestJson::toJson).toList());
    Path output = tmp.resolve("output");
    EndToEnd.Cli run = EndToEnd.Cli.run("corpus", "--model", model.toString(),
        "--input", input.toString(), "--output", output.toString(), "--threads", "1", "--progress", "off");
    assertEquals(0, run.exit(), run.err());
    Map<String, JsonNode> generations = CorpusEndToEndTest.byId(CorpusEndToEndTest.lines(output, "generations-"));
    assertEquals(requests.size(), generations.size());

    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      Map<String, Map.Entry<List<Integer>, String>> expected = reference.generateAll(requests);
      for (InferenceRequest r : requests) {
        String id = r.getRequestId();
        CorpusEndToEndTest.assertMatches(expected.get(id), generations.get(id), id + " (corpus)");
        JsonNode printed = GenerateCli.run(model, r);
        List<Integer> ids = new ArrayList<>();
        printed.get("ids").forEach(n -> ids.add(n.asInt()));
        assertEquals(expected.get(id).getKey(), ids, id + " ids (generate)");
        assertEquals(expected.get(id).getValue(), printed.get("text").asText(), id + " text (generate)");
      }
      // the file's values made a difference: greedy gives other tokens for at least one of them
      Map<String, Map.Entry<List<Integer>, String>> greedy = reference.generateAll(greedyTwins);
      long differ = greedyTwins.stream().filter(r -> !greedy.get(r.getRequestId()).getKey()
          .equals(expected.get(r.getRequestId()).getKey())).count();
      assertTrue(differ > 0, "every unset request gave the greedy answer: the file's sampling was not applied");
      assertEquals(greedy.get("unset-0").getKey(), CorpusEndToEndTest.ids(generations.get("explicit-greedy")));
    }
    // enable_thinking false: the template wrote the empty think block, 4 tokens more
    assertEquals(generations.get("chat-thinking").get("prompt_tokens").asInt() + 4,
        generations.get("chat-no-thinking").get("prompt_tokens").asInt());
  }

  @Test
  void textLinesTakeTheFileUnlessTheOptionsSayOtherwise() throws Exception {
    Path input = Files.createDirectories(tmp.resolve("text-input")).resolve("prompts.txt");
    Files.write(input, List.of("A plain corpus line about rivers.", "Another line about lakes."));
    Path unsetOut = tmp.resolve("text-unset");
    EndToEnd.Cli run = EndToEnd.Cli.run("corpus", "--model", model.toString(),
        "--input", input.toString(), "--output", unsetOut.toString(), "--format", "text", "--max-new-tokens", "8",
        "--seed", "5", "--threads", "1", "--progress", "off");
    assertEquals(0, run.exit(), run.err());
    Path greedyOut = tmp.resolve("text-greedy");
    run = EndToEnd.Cli.run("corpus", "--model", model.toString(), "--input", input.toString(),
        "--output", greedyOut.toString(), "--format", "text", "--max-new-tokens", "8", "--seed", "5",
        "--temperature", "0", "--threads", "1", "--progress", "off");
    assertEquals(0, run.exit(), run.err());
    Map<String, JsonNode> unset = CorpusEndToEndTest.byId(CorpusEndToEndTest.lines(unsetOut, "generations-"));
    Map<String, JsonNode> greedy = CorpusEndToEndTest.byId(CorpusEndToEndTest.lines(greedyOut, "generations-"));
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      for (int line = 1; line <= 2; line++) {
        String id = "prompts.txt:" + line;
        String text = Files.readAllLines(input).get(line - 1);
        CorpusEndToEndTest.assertMatches(reference.generate(prompt(id, text, Sampling.newBuilder().setSeed(5).build())),
            unset.get(id), id + " unset");
        CorpusEndToEndTest.assertMatches(reference.generate(prompt(id, text,
            Sampling.newBuilder().setTemperature(0f).setSeed(5).build())), greedy.get(id), id + " --temperature 0");
      }
    }
  }
}
