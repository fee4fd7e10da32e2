package io.moestream.operators.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.tokenizer.BundledTokenizers;
import io.moestream.engine.tokenizer.ChatMessage;
import io.moestream.engine.tokenizer.SpecialTokensInContent;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.engine.tokenizer.chat.ChatTemplateKwargs;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.RequestJson;
import io.moestream.operators.records.TokenizedRequest;
import io.moestream.operators.records.ValidatedRequest;
import io.moestream.operators.validate.RequestLimits;
import io.moestream.operators.validate.RequestValidator;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The validate and tokenize stages: generation_config.json fills the sampling fields a request
 * leaves unset (-1 in Avro, absent in JSON), values the request gives win, and chat_template_kwargs
 * reach the chat template from JSON and from Avro input alike (Qwen3, enable_thinking off).
 */
class GenerationConfigAndKwargsTest {
  private static final String NO_THINKING = "{\"request_id\": \"r\", \"messages\": [{\"role\": \"user\","
      + " \"content\": \"Hi\"}], \"chat_template_kwargs\": {\"enable_thinking\": false}";
  private static final RequestLimits LIMITS = new RequestLimits(256, 2, 4, 1 << 20, 1 << 16, 64, 1024);

  @TempDir
  static Path root;
  /** Qwen3's own generation_config.json: do_sample true, temperature 0.6, top_p 0.95, top_k 20. */
  private static Path sampling;
  /** The same values with do_sample false: transformers generates greedily. */
  private static Path greedy;
  private static Tokenizer qwen3;

  @BeforeAll
  static void writeModelFolders() throws Exception {
    sampling = modelFolder("sampling", "{\"bos_token_id\": 151643, \"do_sample\": true, \"eos_token_id\":"
        + " [151645, 151643], \"pad_token_id\": 151643, \"temperature\": 0.6, \"top_k\": 20, \"top_p\": 0.95,"
        + " \"transformers_version\": \"4.51.0\"}");
    greedy = modelFolder("greedy", "{\"do_sample\": false, \"temperature\": 0.6, \"top_k\": 20, \"top_p\": 0.95}");
    qwen3 = Tokenizer.load(sampling);
  }

  private static Path modelFolder(String name, String generationConfig) throws Exception {
    Path dir = root.resolve(name);
    BundledTokenizers.copyQwen3To(dir);
    Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"qwen3_moe\", \"hidden_size\": 64,"
        + " \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"num_experts\": 4,"
        + " \"moe_intermediate_size\": 32, \"num_experts_per_tok\": 2, \"vocab_size\": 151936,"
        + " \"max_position_embeddings\": 4096}");
    Files.writeString(dir.resolve("generation_config.json"), generationConfig);
    return dir;
  }

  /** The request through the validator and a TokenizeFunction on {@code modelDir}, as the job runs them. */
  private static TokenizedRequest tokenize(Path modelDir, InferenceRequest request) throws Exception {
    assertEquals(Optional.empty(), new RequestValidator(LIMITS).problem(request));
    TokenizeFunction function = InstantiationUtil.clone(new TokenizeFunction(modelDir.toString()));
    try (OneInputStreamOperatorTestHarness<ValidatedRequest, TokenizedRequest> harness =
        ProcessFunctionTestHarnesses.forProcessFunction(function)) {
      harness.processElement(new ValidatedRequest(request, "in", 0, 0, 1L), 0L);
      List<TokenizedRequest> out = harness.extractOutputValues();
      assertEquals(1, out.size(), "dead-lettered?");
      return out.get(0);
    }
  }

  private static void assertSampling(float temperature, float topP, int topK, TokenizedRequest t) {
    assertEquals(temperature, t.temperature, "temperature");
    assertEquals(topP, t.topP, "top_p");
    assertEquals(topK, t.topK, "top_k");
  }

  @Test
  void unsetSamplingTakesGenerationConfig() throws Exception {
    InferenceRequest fromJson = RequestJson.parse(NO_THINKING + "}");
    assertSampling(0.6f, 0.95f, 20, tokenize(sampling, fromJson));
    // Avro: the builder's defaults are the -1 sentinels, through the codec and back
    AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
    InferenceRequest fromAvro = codec.decode(codec.encode(
        InferenceRequest.newBuilder().setRequestId("a").setPrompt("Hi").build()));
    assertSampling(0.6f, 0.95f, 20, tokenize(sampling, fromAvro));
    // do_sample false: greedy, as transformers' generate(); top_p and top_k still the file's
    assertSampling(0f, 0.95f, 20, tokenize(greedy, fromJson));
    assertSampling(0f, 0.95f, 20, tokenize(greedy, fromAvro));
  }

  @Test
  void valuesTheRequestGivesWin() throws Exception {
    TokenizedRequest explicitGreedy = tokenize(sampling, RequestJson.parse(NO_THINKING
        + ", \"sampling\": {\"temperature\": 0, \"top_k\": null, \"seed\": 3}}"));
    assertSampling(0f, 0.95f, 20, explicitGreedy);
    assertEquals(3L, explicitGreedy.seed);
    assertSampling(0.9f, 1f, 0, tokenize(sampling, RequestJson.parse(NO_THINKING
        + ", \"sampling\": {\"temperature\": 0.9, \"top_p\": 1, \"top_k\": 0}}")));
    // over do_sample false too: a request that asks to sample, samples
    assertSampling(0.7f, 0.95f, 20, tokenize(greedy, InferenceRequest.newBuilder().setRequestId("a").setPrompt("Hi")
        .setSampling(Sampling.newBuilder().setTemperature(0.7f).build()).build()));
  }

  /** A producer built before version 2 wrote temperature 0, top_p 1, top_k 0: it meant greedy and gets greedy. */
  @Test
  void version1ProducersKeepTheirExplicitValues() throws Exception {
    Schema v1;
    try (var in = getClass().getResourceAsStream("/io/moestream/schemas/legacy/InferenceRequest.v1.avsc")) {
      v1 = new Schema.Parser().parse(in);
    }
    GenericRecord values = new GenericData.Record(v1.getField("sampling").schema());
    values.put("temperature", 0f);
    values.put("top_p", 1f);
    values.put("top_k", 0);
    values.put("seed", 0L);
    values.put("stop", List.of());
    GenericRecord r = new GenericData.Record(v1);
    r.put("request_id", "old");
    r.put("prompt", "Hi");
    r.put("max_new_tokens", 4);
    r.put("sampling", values);
    r.put("priority", new GenericData.EnumSymbol(v1.getField("priority").schema(), "NORMAL"));
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
    new GenericDatumWriter<GenericRecord>(v1).write(r, encoder);
    encoder.flush();
    InferenceRequest old = new AvroCodec<>(InferenceRequest.class).decode(bytes.toByteArray());
    assertSampling(0f, 1f, 0, tokenize(sampling, old));
  }

  @Test
  void kwargsReachTheTemplateFromJsonAndFromAvro() throws Exception {
    int[] expected = qwen3.encodeChat(List.of(new ChatMessage("user", "Hi")), true, SpecialTokensInContent.TEXT,
        ChatTemplateKwargs.parse("{\"enable_thinking\": false}", "k"));
    assertTrue(qwen3.decode(expected).endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
    InferenceRequest fromJson = RequestJson.parse(NO_THINKING + "}");
    assertArrayEquals(expected, tokenize(sampling, fromJson).promptIds);
    AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
    InferenceRequest fromAvro = codec.decode(codec.encode(fromJson));
    assertEquals(Map.of("enable_thinking", "false"), fromAvro.getChatTemplateKwargs());
    assertArrayEquals(expected, tokenize(sampling, fromAvro).promptIds);
    int[] thinking = tokenize(sampling, RequestJson.parse("{\"request_id\": \"r\", \"messages\": [{\"role\": \"user\","
        + " \"content\": \"Hi\"}]}")).promptIds;
    assertEquals(expected.length - 4, thinking.length); // <think>, "\n\n", </think>, "\n\n"
    assertArrayEquals(thinking, Arrays.copyOf(expected, thinking.length));
  }

  @Test
  void badKwargsAreRefusedNamingTheKey() {
    RequestValidator validator = new RequestValidator(LIMITS);
    IllegalArgumentException json = assertThrows(IllegalArgumentException.class,
        () -> RequestJson.parse("{\"request_id\": \"r\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}],"
            + " \"chat_template_kwargs\": {\"bos_token\": \"x\"}}"));
    assertTrue(json.getMessage().contains("chat_template_kwargs: key 'bos_token' is reserved"), json.getMessage());
    InferenceRequest avro = InferenceRequest.newBuilder(RequestJson.parse(NO_THINKING + "}"))
        .setChatTemplateKwargs(Map.of("messages", "[]")).build();
    assertTrue(validator.problem(avro).orElseThrow().contains("key 'messages' is reserved"));
    InferenceRequest notJson = InferenceRequest.newBuilder(avro).setChatTemplateKwargs(Map.of("x", "{oops")).build();
    assertTrue(validator.problem(notJson).orElseThrow().startsWith("chat_template_kwargs.x: not a JSON value"));
    InferenceRequest onPrompt = InferenceRequest.newBuilder().setRequestId("p").setPrompt("x")
        .setChatTemplateKwargs(Map.of("enable_thinking", "false")).build();
    assertTrue(validator.problem(onPrompt).orElseThrow().startsWith("chat_template_kwargs: only with messages"));
  }
}
