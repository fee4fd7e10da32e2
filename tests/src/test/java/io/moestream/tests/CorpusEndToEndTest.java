package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.tests.EndToEnd.Cli;
import io.moestream.operators.codec.RequestJson;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corpus mode ({@code ./moestream corpus}, Flink BATCH over files, no Kafka) against the streaming job:
 * 300 JSONL requests spread over three files with bad lines among them give exactly one generation
 * per request, each equal to the reference the streaming suites verify ({@code generate}'s), and the
 * same 300 run through the real streaming job (Kafka broker in-JVM) in this test give the same tokens,
 * text and finish reasons; bad lines land in the dead-letters file with file, line and reason. Text and Avro input
 * agree with the reference too; unreadable input fails naming the file and line.
 */
class CorpusEndToEndTest {
  static final int REQUESTS = 300;
  static final int CONTEXT_LENGTH = 512;
  static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path tmp;
  static Path model;
  static List<InferenceRequest> requests;
  static Map<String, Map.Entry<List<Integer>, String>> expected = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    model = DemoModel.write(DemoModel.spec().withMaxPositionEmbeddings(CONTEXT_LENGTH), tmp.resolve("model"));
    requests = EndToEnd.goodRequests(REQUESTS);
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      expected.putAll(reference.generateAll(requests));
    }
  }

  /** A bad line of a JSONL corpus and what its dead letter must say. */
  record BadLine(String line, String requestId, String reason) {}

  static List<BadLine> badLines() {
    return List.of(
        new BadLine("{not json", null, "not valid JSON"),
        new BadLine("{\"request_id\": \"bad-field\", \"prompt\": \"hi\", \"colour\": \"red\"}", null, "colour: unknown field"),
        new BadLine("{\"request_id\": \"bad-missing-prompt\"}", "bad-missing-prompt", "prompt: missing"),
        new BadLine("{\"request_id\": \"bad-zero-tokens\", \"prompt\": \"hi\", \"max_new_tokens\": 0}", "bad-zero-tokens",
            "max_new_tokens: must be in [1, "),
        new BadLine("{\"request_id\": \"bad-role\", \"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}", "bad-role",
            "messages[0].role: unknown value 'robot'"),
        new BadLine("{\"request_id\": \"bad-too-long\", \"prompt\": \"" + "hello ".repeat(CONTEXT_LENGTH + 50) + "\"}",
            "bad-too-long", "do not fit the model's context of " + CONTEXT_LENGTH));
  }

  @Test
  void jsonlCorpusGivesEveryGenerationOnceIdenticalToStreamingAndTheReference() throws Exception {
    Path input = Files.createDirectories(tmp.resolve("jsonl-input"));
    Path output = tmp.resolve("jsonl-output");
    List<BadLine> bad = badLines();
    // three files; a bad line in each of the first lines, the middle and the end; a blank line kept
    Map<String, Long> badAt = new HashMap<>(); // the dead letter's FILE:LINE for each bad line
    for (int f = 0; f < 3; f++) {
      List<String> lines = new ArrayList<>();
      for (int i = f; i < REQUESTS; i += 3) {
        lines.add(RequestJson.toJson(requests.get(i)));
      }
      String name = "part-" + f + ".jsonl";
      for (int b = f; b < bad.size(); b += 3) {
        int at = Math.min(lines.size(), (b / 3) * 60 + 7);
        lines.add(at, bad.get(b).line());
      }
      lines.add(50, "");
      for (int i = 0; i < lines.size(); i++) {
        for (BadLine b : bad) {
          if (b.line().equals(lines.get(i))) {
            badAt.put(b.line(), i + 1L);
          }
        }
      }
      Files.write(input.resolve(name), lines);
    }
    // one more file: a request without request_id gets FILE:LINE as its id
    Files.writeString(input.resolve("part-3.jsonl"), "\n{\"prompt\": \"no id here\", \"max_new_tokens\": 5}\n");
    InferenceRequest withoutId = RequestJson.parse("{\"request_id\": \"part-3.jsonl:2\", \"prompt\": \"no id here\", "
        + "\"max_new_tokens\": 5}");

    Cli run = Cli.run("corpus", "--model", model.toString(), "--input", input.toString(), "--output", output.toString(),
        "--parallelism", "2", "--threads", "1", "--max-in-flight", "32", "--max-batch-size", "8",
        "--set", "model.kv_cache_mb=64", "--progress", "plain", "--progress-interval", "1");
    assertEquals(0, run.exit(), run.err());
    JsonNode summary = JSON.readTree(run.out());
    assertEquals(REQUESTS + 1 + bad.size(), summary.get("total").asLong(), run.out());
    assertEquals(REQUESTS + 1, summary.get("generations").asLong(), run.out());
    assertEquals(bad.size(), summary.get("dead_letters").asLong(), run.out());
    assertTrue(run.err().matches("(?s).*corpus: \\d+/" + (REQUESTS + 1 + bad.size()) + " \\(.*tok/s.*left.*"),
        "no progress line in: " + run.err());

    Map<String, JsonNode> generations = byId(lines(output, "generations-"));
    assertEquals(REQUESTS + 1, generations.size());
    for (InferenceRequest r : requests) {
      assertMatches(expected.get(r.getRequestId()), generations.get(r.getRequestId()), r.getRequestId());
    }
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      assertMatches(reference.generate(withoutId), generations.get("part-3.jsonl:2"), "part-3.jsonl:2");
    }

    List<JsonNode> deadLetters = lines(output, "dead-letters-");
    assertEquals(bad.size(), deadLetters.size(), deadLetters.toString());
    for (BadLine b : bad) {
      JsonNode d = deadLetters.stream().filter(n -> b.requestId() == null
              ? n.get("request_id").isNull() && b.line().equals(n.path("raw").asText())
              : b.requestId().equals(n.get("request_id").asText()))
          .findFirst().orElseThrow(() -> new AssertionError("no dead letter for " + b.line() + " in " + deadLetters));
      assertTrue(d.get("reason").asText().contains(b.reason()), d.toString());
      assertTrue(d.get("file").asText().matches("part-[0-2]\\.jsonl"), d.toString());
      assertEquals((long) badAt.get(b.line()), d.get("line").asLong(), d.toString());
    }

    // the same requests through the real streaming job (Kafka in, Kafka out) give the same generations
    List<Generation> streamed = stream(requests);
    assertEquals(REQUESTS, streamed.size());
    for (Generation g : streamed) {
      JsonNode c = generations.get(g.getRequestId());
      assertNotNull(c, g.getRequestId());
      assertEquals(g.getTokenIds(), ids(c), g.getRequestId() + " token ids, streaming vs corpus");
      assertEquals(g.getText(), c.get("text").asText(), g.getRequestId() + " text, streaming vs corpus");
      assertEquals(g.getFinishReason().name().toLowerCase(), c.get("finish_reason").asText());
    }
  }

  @Test
  void textAndAvroInputGiveTheReference() throws Exception {
    // text: one prompt per line, ids FILE:LINE, the prompt options for every line
    Path text = Files.createDirectories(tmp.resolve("text-input")).resolve("prompts.txt");
    List<String> prompts = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      prompts.add(i == 5 ? "   " : "Line " + i + " of a plain corpus about streams.");
    }
    Files.write(text, prompts);
    Path textOut = tmp.resolve("text-output");
    Cli run = Cli.run("corpus", "--model", model.toString(), "--input", text.toString(), "--output", textOut.toString(),
        "--format", "text", "--max-new-tokens", "6", "--temperature", "0.7", "--seed", "11", "--threads", "1",
        "--progress", "off");
    assertEquals(0, run.exit(), run.err());
    List<InferenceRequest> textRequests = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      if (!prompts.get(i).isBlank()) {
        textRequests.add(InferenceRequest.newBuilder().setRequestId("prompts.txt:" + (i + 1)).setPrompt(prompts.get(i))
            .setMaxNewTokens(6).setSampling(Sampling.newBuilder().setTemperature(0.7f).setSeed(11).build()).build());
      }
    }
    // avro: container files of InferenceRequest
    Path avroDir = Files.createDirectories(tmp.resolve("avro-input"));
    List<InferenceRequest> avroRequests = requests.subList(100, 130);
    for (int f = 0; f < 2; f++) {
      try (DataFileWriter<InferenceRequest> writer = new DataFileWriter<>(new SpecificDatumWriter<>(InferenceRequest.class))) {
        writer.create(InferenceRequest.getClassSchema(), avroDir.resolve("requests-" + f + ".avro").toFile());
        for (InferenceRequest r : avroRequests.subList(f * 15, f * 15 + 15)) {
          writer.append(r);
        }
      }
    }
    Path avroOut = tmp.resolve("avro-output");
    run = Cli.run("corpus", "--model", model.toString(), "--input", avroDir + "/*.avro", "--output", avroOut.toString(),
        "--format", "avro", "--threads", "1", "--progress", "off");
    assertEquals(0, run.exit(), run.err());

    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      Map<String, Map.Entry<List<Integer>, String>> textExpected = reference.generateAll(textRequests);
      Map<String, JsonNode> textGenerations = byId(lines(textOut, "generations-"));
      assertEquals(textRequests.size(), textGenerations.size(), textGenerations.keySet().toString());
      textExpected.forEach((id, want) -> assertMatches(want, textGenerations.get(id), id));
    }
    Map<String, JsonNode> avroGenerations = byId(lines(avroOut, "generations-"));
    assertEquals(avroRequests.size(), avroGenerations.size());
    for (InferenceRequest r : avroRequests) {
      assertMatches(expected.get(r.getRequestId()), avroGenerations.get(r.getRequestId()), r.getRequestId());
    }
  }

  @Test
  void aProfileFromProfileExpertsPrunesTheCorpusRunAsItPrunesGenerate() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("pruned"));
    Path text = dir.resolve("profile-text.txt");
    List<String> prompts = new ArrayList<>();
    requests.subList(0, 40).forEach(r -> prompts.add(r.getPrompt() != null ? r.getPrompt()
        : r.getMessages().get(r.getMessages().size() - 1).getContent()));
    Files.write(text, prompts);
    Path profile = dir.resolve("profile.json");
    Cli run = Cli.run("profile-experts", "--model", model.toString(), "--input", text.toString(), "--output",
        profile.toString(), "--threads", "1");
    assertEquals(0, run.exit(), run.err());

    List<InferenceRequest> subset = requests.subList(200, 216);
    Path input = Files.createDirectories(dir.resolve("input")).resolve("requests.jsonl");
    Files.write(input, subset.stream().map(RequestJson::toJson).toList());
    List<String> pruning = List.of("--prune-experts", "3", "--expert-profile", profile.toString()); // 3 of 8, top-2
    List<String> args = new ArrayList<>(List.of("corpus", "--model", model.toString(), "--input", input.toString(),
        "--output", dir.resolve("output").toString(), "--threads", "1", "--progress", "off"));
    args.addAll(pruning);
    run = Cli.run(args.toArray(new String[0]));
    assertEquals(0, run.exit(), run.err());
    Map<String, JsonNode> generations = byId(lines(dir.resolve("output"), "generations-"));
    assertEquals(subset.size(), generations.size());
    int differing = 0;
    for (InferenceRequest r : subset) {
      JsonNode want = GenerateCli.run(model, r, pruning);
      JsonNode got = generations.get(r.getRequestId());
      List<Integer> wantIds = new ArrayList<>();
      want.get("ids").forEach(n -> wantIds.add(n.asInt()));
      assertEquals(wantIds, ids(got), r.getRequestId() + ": corpus vs generate, both pruned");
      assertEquals(want.get("text").asText(), got.get("text").asText(), r.getRequestId());
      differing += ids(got).equals(expected.get(r.getRequestId()).getKey()) ? 0 : 1;
    }
    assertTrue(differing > 0, "keeping 3 of 8 experts changed no generation: was the model pruned?");

    run = Cli.run("corpus", "--model", model.toString(), "--input", input.toString(), "--output",
        dir.resolve("output-2").toString(), "--progress", "off", "--prune-experts", "1", "--expert-profile",
        profile.toString());
    assertEquals(1, run.exit(), run.err());
    assertTrue(run.err().contains("experts.prune_experts"), run.err()); // fewer than num_experts_per_tok
  }

  @Test
  void unreadableInputFailsNamingTheFileAndLine() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("unreadable"));
    Path latin1 = dir.resolve("latin1.txt");
    Files.write(latin1, "first line\nsecond line\ncaf\u00e9 third\n".getBytes(StandardCharsets.ISO_8859_1));
    Cli run = Cli.run("corpus", "--model", model.toString(), "--input", latin1.toString(), "--output",
        dir.resolve("out1").toString(), "--format", "text", "--progress", "off");
    assertEquals(1, run.exit(), run.err());
    assertTrue(run.err().contains("latin1.txt:3: not UTF-8 text"), run.err());

    Path notAvro = dir.resolve("requests.avro");
    Files.writeString(notAvro, "{\"request_id\": \"x\", \"prompt\": \"hi\"}\n");
    run = Cli.run("corpus", "--model", model.toString(), "--input", notAvro.toString(), "--output",
        dir.resolve("out2").toString(), "--format", "avro", "--progress", "off");
    assertEquals(1, run.exit(), run.err());
    assertTrue(run.err().contains("requests.avro: not an Avro container file of InferenceRequest"), run.err());

    run = Cli.run("corpus", "--model", model.toString(), "--input", dir + "/*.nothing", "--output",
        dir.resolve("out3").toString(), "--progress", "off");
    assertEquals(1, run.exit(), run.err());
    assertTrue(run.err().contains("no file matches"), run.err());
  }

  /** Runs the streaming job over Kafka for {@code subset} and reads its generations (read_committed). */
  private static List<Generation> stream(List<InferenceRequest> subset) throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      JobConfig config = EndToEnd.config("corpus-vs-streaming", model, kafka.bootstrapServers(),
          Map.of("experts.policy", "full")); // corpus mode's default: the full model whatever the load
      kafka.createTopics(1, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic());
      List<byte[]> values = new ArrayList<>();
      subset.forEach(r -> values.add(EndToEnd.REQUESTS.encode(r)));
      EndToEnd.produce(kafka.bootstrapServers(), config.kafka().inputTopic(), values);
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      InferencePipeline.define(env, config);
      JobClient job = env.executeAsync("corpus-vs-streaming");
      try {
        return EndToEnd.readCommitted(kafka.bootstrapServers(), config.kafka().outputTopic(), EndToEnd.GENERATIONS::decode,
            subset.size(), Duration.ofMinutes(3), Duration.ofSeconds(2));
      } finally {
        JobClients.cancelAndAwait(job, java.time.Duration.ofMinutes(1));
      }
    }
  }

  static void assertMatches(Map.Entry<List<Integer>, String> want, JsonNode got, String id) {
    assertNotNull(got, "no generation for " + id);
    assertEquals(want.getKey(), ids(got), id + " token ids");
    assertEquals(want.getValue(), got.get("text").asText(), id + " text");
    assertTrue(!"error".equals(got.get("finish_reason").asText()), id + ": " + got);
  }

  static List<Integer> ids(JsonNode generation) {
    List<Integer> ids = new ArrayList<>();
    generation.get("token_ids").forEach(n -> ids.add(n.asInt()));
    return ids;
  }

  /** Every whole line of the output files whose name starts with {@code prefix}, parsed. */
  static List<JsonNode> lines(Path output, String prefix) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(output)) {
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith(prefix)).sorted().toList()) {
        for (String line : Files.readAllLines(file)) {
          if (!line.isBlank()) {
            out.add(JSON.readTree(line));
          }
        }
      }
    }
    return out;
  }

  /** By request id; a second line with the same id fails. */
  static Map<String, JsonNode> byId(List<JsonNode> generations) {
    Map<String, JsonNode> byId = new HashMap<>();
    for (JsonNode g : generations) {
      JsonNode previous = byId.put(g.get("request_id").asText(), g);
      assertTrue(previous == null, "two generations for " + g.get("request_id").asText());
    }
    return byId;
  }

}
