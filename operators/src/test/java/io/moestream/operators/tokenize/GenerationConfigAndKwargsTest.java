package io.moestream.operators.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tokenize stage applies generation_config.json to the sampling fields a request leaves unset,
 * and renders chat_template_kwargs from JSON and from Avro input alike (Qwen3, enable_thinking off).
 */
class GenerationConfigAndKwargsTest {
  private static final String NO_THINKING = "{\"request_id\": \"r\", \"messages\": [{\"role\": \"user\","
      + " \"content\": \"Hi\"}], \"chat_template_kwargs\": {\"enable_thinking\": false}";

  private static final RequestLimits LIMITS = new RequestLimits(256, 2, 4, 1 << 20, 1 << 16, 64, 1024);

  @TempDir
  static Path modelDir;
  private static Tokenizer qwen3;

  @BeforeAll
  static void writeModelFolder() throws Exception {
    BundledTokenizers.copyQwen3To(modelDir);
    Files.writeString(modelDir.resolve("config.json"), "{\"model_type\": \"qwen3_moe\", \"hidden_size\": 64,"
        + " \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"num_experts\": 4,"
        + " \"moe_intermediate_size\": 32, \"num_experts_per_tok\": 2, \"vocab_size\": 151936,"
        + " \"max_position_embeddings\": 4096}");
    // Qwen3's own generation_config.json
    Files.writeString(modelDir.resolve("generation_config.json"), "{\"bos_token_id\": 151643, \"do_sample\": true,"
        + " \"eos_token_id\": [151645, 151643], \"pad_token_id\": 151643, \"temperature\": 0.6, \"top_k\": 20,"
        + " \"top_p\": 0.95, \"transformers_version\": \"4.51.0\"}");
    qwen3 = Tokenizer.load(modelDir);
  }

  private static TokenizedRequest tokenize(InferenceRequest request) throws Exception {
    assertEquals(java.util.Optional.empty(), new RequestValidator(LIMITS).problem(request));
    TokenizeFunction function = InstantiationUtil.clone(new TokenizeFunction(modelDir.toString()));
    try (OneInputStreamOperatorTestHarness<ValidatedRequest, TokenizedRequest> harness =
        ProcessFunctionTestHarnesses.forProcessFunction(function)) {
      harness.processElement(new ValidatedRequest(request, "in", 0, 0, 1L), 0L);
      List<TokenizedRequest> out = harness.extractOutputValues();
      assertEquals(1, out.size(), "dead-lettered?");
      return out.get(0);
    }
  }

  @Test
  void kwargsReachTheTemplateFromJsonAndFromAvro() throws Exception {
    int[] expected = qwen3.encodeChat(List.of(new ChatMessage("user", "Hi")), true, SpecialTokensInContent.TEXT,
        ChatTemplateKwargs.parse("{\"enable_thinking\": false}", "k"));
    assertTrue(qwen3.decode(expected).endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
    InferenceRequest fromJson = RequestJson.parse(NO_THINKING + "}");
    assertArrayEquals(expected, tokenize(fromJson).promptIds);
    AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
    InferenceRequest fromAvro = codec.decode(codec.encode(fromJson));
    assertArrayEquals(expected, tokenize(fromAvro).promptIds);
    // and the JSON form survives a round trip
    assertEquals(fromJson, RequestJson.parse(RequestJson.toJson(fromJson)));
    int[] thinking = tokenize(RequestJson.parse("{\"request_id\": \"r\", \"messages\": [{\"role\": \"user\","
        + " \"content\": \"Hi\"}]}")).promptIds;
    assertEquals(expected.length - 4, thinking.length); // <think>, "\n\n", </think>, "\n\n"
  }

  @Test
  void unsetSamplingTakesGenerationConfigAndSetFieldsWin() throws Exception {
    TokenizedRequest unset = tokenize(RequestJson.parse(NO_THINKING + "}"));
    assertEquals(0.6f, unset.temperature);
    assertEquals(0.95f, unset.topP);
    assertEquals(20, unset.topK);
    TokenizedRequest greedy = tokenize(RequestJson.parse(NO_THINKING
        + ", \"sampling\": {\"temperature\": 0, \"top_k\": null, \"seed\": 3}}"));
    assertEquals(0f, greedy.temperature);
    assertEquals(0.95f, greedy.topP);
    assertEquals(20, greedy.topK);
    assertEquals(3L, greedy.seed);
  }

  @Test
  void badKwargsAreRefusedNamingTheKey() {
    RequestValidator validator = new RequestValidator(LIMITS);
    IllegalArgumentException json = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> RequestJson.parse("{\"request_id\": \"r\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}],"
            + " \"chat_template_kwargs\": {\"bos_token\": \"x\"}}"));
    assertTrue(json.getMessage().contains("chat_template_kwargs: key 'bos_token' is reserved"), json.getMessage());
    InferenceRequest avro = InferenceRequest.newBuilder(RequestJson.parse(NO_THINKING + "}"))
        .setChatTemplateKwargs(java.util.Map.of("messages", "[]")).build();
    assertTrue(validator.problem(avro).orElseThrow().contains("key 'messages' is reserved"));
    InferenceRequest onPrompt = InferenceRequest.newBuilder().setRequestId("p").setPrompt("x")
        .setChatTemplateKwargs(java.util.Map.of("enable_thinking", "false")).build();
    assertTrue(validator.problem(onPrompt).orElseThrow().startsWith("chat_template_kwargs: only with messages"));
  }
}
