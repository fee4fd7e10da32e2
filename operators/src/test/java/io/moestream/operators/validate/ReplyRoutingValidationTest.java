package io.moestream.operators.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.RequestJson;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.records.CarriedHeaders;
import io.moestream.operators.records.RawRequest;
import io.moestream.operators.records.RoutedDeadLetter;
import io.moestream.operators.records.ValidatedRequest;
import io.moestream.operators.codec.WireFormat;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.InferenceRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

/** reply_topic and carried headers at the validate stage: what is refused, naming field and value, and what passes. */
class ReplyRoutingValidationTest {
  private static final AvroCodec<InferenceRequest> AVRO = new AvroCodec<>(InferenceRequest.class);

  /** Topics that exist for {@link Existing}: a static set, since the recipe is serialized with the function. */
  private static final Set<String> EXISTING = Set.of("replies.a", "replies.b", "other");

  private static final class Existing implements TopicExistence {
    @Override
    public boolean exists(String topic) {
      return EXISTING.contains(topic);
    }

    @Override
    public void close() {}
  }

  private static byte[] request(String id, String replyTopic) {
    return AVRO.encode(InferenceRequest.newBuilder().setRequestId(id).setPrompt("hi").setReplyTopic(replyTopic).build());
  }

  @Test
  void replyTopicsAreCheckedForNameAllowListAndExistence() throws Exception {
    RoutingRules rules = new RoutingRules(List.of("replies.*", "other"), 16, Existing::new);
    List<DeadLetter> letters = new ArrayList<>();
    List<ValidatedRequest> passed = run(rules, letters, List.of(
        raw(request("a", "replies.a"), null), raw(request("none", null), null),
        raw(request("o", "other"), null), raw(request("missing", "replies.zz"), null),
        raw(request("denied", "elsewhere"), null), raw(request("bad", "no spaces"), null),
        raw(request("long", "r".repeat(250)), null)));
    assertEquals(List.of("a", "none", "o"), passed.stream().map(v -> v.request.getRequestId()).toList());
    assertEquals(List.of("missing", "denied", "bad", "long"), letters.stream().map(DeadLetter::getRequestId).toList());
    assertEquals("reply_topic: 'replies.zz' does not exist (the job does not create topics)", letters.get(0).getReason());
    assertEquals("reply_topic: 'elsewhere' is not allowed by kafka.allowed_reply_topics [replies.*, other]",
        letters.get(1).getReason());
    assertTrue(letters.get(2).getReason().startsWith("reply_topic: 'no spaces' is not a legal Kafka topic name"),
        letters.get(2).getReason());
    assertEquals("reply_topic: longer than 249 characters, found 250", letters.get(3).getReason());
    letters.forEach(d -> assertEquals(DeadLetters.STAGE_VALIDATE, d.getStage()));
  }

  @Test
  void carriedHeadersPassWithTheRequestAndAnOversizedOneIsRefused() throws Exception {
    RoutingRules rules = new RoutingRules(List.of(), 16, null);
    CarriedHeaders small = new CarriedHeaders(new String[] {"traceparent", "correlation_id"},
        new byte[][] {"00-abc-01".getBytes(StandardCharsets.UTF_8), null});
    CarriedHeaders big = new CarriedHeaders(new String[] {"traceparent"}, new byte[][] {new byte[17]});
    List<DeadLetter> letters = new ArrayList<>();
    List<ValidatedRequest> passed = run(rules, letters, List.of(raw(request("ok", null), small),
        raw(request("big", null), big)));
    assertEquals(1, passed.size());
    assertEquals(small, passed.get(0).headers);
    assertEquals("header 'traceparent': 17 bytes, over limits.max_header_bytes (16)", letters.get(0).getReason());
  }

  /**
   * A dead letter carries its request's headers, as its generation would have: at validate, and at
   * decode (a value that is not a request). A header over the limit is left out of the dead letter
   * about it; the others, the correlation id among them, still travel.
   */
  @Test
  void deadLettersCarryTheRequestsHeadersWithinTheLimit() throws Exception {
    RoutingRules rules = new RoutingRules(List.of(), 16, null);
    byte[] trace = "00-abc-01".getBytes(StandardCharsets.UTF_8);
    byte[] correlation = "corr-7".getBytes(StandardCharsets.UTF_8);
    CarriedHeaders both = new CarriedHeaders(new String[] {"traceparent", "correlation_id"},
        new byte[][] {trace, correlation});
    CarriedHeaders oneTooBig = new CarriedHeaders(new String[] {"traceparent", "correlation_id"},
        new byte[][] {new byte[17], correlation});
    List<RoutedDeadLetter> letters = new ArrayList<>();
    List<ValidatedRequest> passed = runRouted(rules, letters, List.of(
        raw(request("denied", "not a topic"), both), raw(new byte[] {(byte) 0xff, 1, 2}, both),
        raw(request("big", null), oneTooBig), raw(request("bare", "not a topic"), null)));
    assertTrue(passed.isEmpty(), passed.toString());
    assertEquals(List.of(DeadLetters.STAGE_VALIDATE, DeadLetters.STAGE_DECODE, DeadLetters.STAGE_VALIDATE,
        DeadLetters.STAGE_VALIDATE), letters.stream().map(l -> l.deadLetter.getStage()).toList());
    assertEquals(both, letters.get(0).headers);
    assertEquals(both, letters.get(1).headers);
    assertEquals(new CarriedHeaders(new String[] {"correlation_id"}, new byte[][] {correlation}), letters.get(2).headers);
    assertEquals("header 'traceparent': 17 bytes, over limits.max_header_bytes (16)",
        letters.get(2).deadLetter.getReason());
    assertEquals(null, letters.get(3).headers);
  }

  @Test
  void jsonCarriesTheReplyTopic() {
    RequestJson json = new RequestJson(new RequestJson.Bounds(4096, 16, 4096));
    InferenceRequest r = json.read("{\"request_id\":\"j\",\"prompt\":\"hi\",\"reply_topic\":\"replies.a\"}"
        .getBytes(StandardCharsets.UTF_8));
    assertEquals("replies.a", r.getReplyTopic());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> json.read(
        "{\"request_id\":\"j\",\"prompt\":\"hi\",\"reply_topic\":7}".getBytes(StandardCharsets.UTF_8)));
    assertEquals("reply_topic: expected a string, found NUMBER", e.getMessage());
  }

  @Test
  void allowListEntriesMustBeNamesOrPrefixes() {
    assertEquals(Optional.empty(), new RoutingRules(List.of("a.b*"), 1, null).replyTopicProblem("a.bc"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new RoutingRules(List.of("replies/*"), 1, null));
    assertTrue(e.getMessage().startsWith("allowedReplyTopics: 'replies/*' is not a topic name"), e.getMessage());
  }

  private static RawRequest raw(byte[] value, CarriedHeaders headers) {
    RawRequest r = new RawRequest(value, "requests", 0, 0);
    r.headers = headers;
    return r;
  }

  private static List<ValidatedRequest> run(RoutingRules rules, List<DeadLetter> letters, List<RawRequest> in)
      throws Exception {
    List<RoutedDeadLetter> routed = new ArrayList<>();
    List<ValidatedRequest> passed = runRouted(rules, routed, in);
    routed.forEach(r -> letters.add(r.deadLetter));
    return passed;
  }

  private static List<ValidatedRequest> runRouted(RoutingRules rules, List<RoutedDeadLetter> letters,
      List<RawRequest> in) throws Exception {
    try (OneInputStreamOperatorTestHarness<RawRequest, ValidatedRequest> h = ProcessFunctionTestHarnesses
        .forProcessFunction(new DecodeValidateFunction(WireFormat.AVRO, DecodeValidateFunctionTest.LIMITS, rules))) {
      for (int i = 0; i < in.size(); i++) {
        h.processElement(in.get(i), i);
      }
      var side = h.getSideOutput(DeadLetters.TAG);
      if (side != null) {
        side.forEach(r -> letters.add(r.getValue()));
      }
      return h.extractOutputValues();
    }
  }
}
