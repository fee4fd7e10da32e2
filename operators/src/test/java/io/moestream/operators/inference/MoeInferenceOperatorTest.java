package io.moestream.operators.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.policy.ControllerSettings;
import io.moestream.operators.records.RequestBatch;
import io.moestream.operators.records.TokenizedRequest;
import io.moestream.schemas.FinishReason;
import io.moestream.operators.records.CarriedHeaders;
import io.moestream.operators.records.RoutedGeneration;
import io.moestream.schemas.Generation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class MoeInferenceOperatorTest {
  private static OneInputStreamOperatorTestHarness<RequestBatch, RoutedGeneration> harness(int maxInFlight) throws Exception {
    InferenceSettings settings = new InferenceSettings(ReferenceGenerations.TINY_MODEL.toString(), maxInFlight, 1,
        "vector", 8L << 20, 64, 8);
    return new OneInputStreamOperatorTestHarness<>(new MoeInferenceOperatorFactory(settings, ExpertControl.full()));
  }

  private static List<TokenizedRequest> requests(int n) {
    List<TokenizedRequest> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(ReferenceGenerations.request("r" + i, 3 + i % 5, 6 + i % 3, i % 2 == 0 ? 0f : 0.9f, 100 + i));
    }
    return list;
  }

  /** The Generations the operator emitted, in order, without their routing. */
  static List<Generation> answers(OneInputStreamOperatorTestHarness<RequestBatch, RoutedGeneration> h) {
    return h.extractOutputValues().stream().map(r -> r.generation).toList();
  }

  private static void runMail(OneInputStreamOperatorTestHarness<?, ?> h, int maxLetters) throws Exception {
    TaskMailbox mailbox = h.getTaskMailbox();
    for (int i = 0; i < maxLetters && mailbox.hasMail(); i++) {
      mailbox.take(TaskMailbox.MIN_PRIORITY).run();
    }
  }

  private static Map<String, Generation> byId(List<Generation> out) {
    Map<String, Generation> map = new HashMap<>();
    for (Generation g : out) {
      assertTrue(map.put(g.getRequestId(), g) == null, "duplicate generation for " + g.getRequestId());
    }
    return map;
  }

  @Test
  void batchedGenerationsEqualEachRequestRunAlone() throws Exception {
    List<TokenizedRequest> requests = requests(6);
    try (var h = harness(16)) {
      h.open();
      h.processElement(new RequestBatch(requests.subList(0, 4).toArray(new TokenizedRequest[0])), 0);
      runMail(h, 2);
      h.processElement(new RequestBatch(requests.subList(4, 6).toArray(new TokenizedRequest[0])), 0); // joins mid-decode
      runMail(h, 1000);
      Map<String, Generation> out = byId(answers(h));
      assertEquals(6, out.size());
      for (TokenizedRequest r : requests) {
        Generation g = out.get(r.requestId);
        assertEquals(ReferenceGenerations.alone(r), g.getTokenIds(), r.requestId);
        assertEquals(r.promptIds.length, g.getPromptTokens());
        assertEquals(g.getTokenIds().size(), g.getCompletionTokens());
        assertTrue(g.getFinishReason() == FinishReason.LENGTH || g.getFinishReason() == FinishReason.STOP);
        assertEquals(4, g.getExpertsPerToken().getMin());
      }
    }
  }

  @Test
  void requestsInFlightAtACheckpointAreReplayedToTheSameGeneration() throws Exception {
    List<TokenizedRequest> requests = requests(5);
    for (int i = 0; i < requests.size(); i++) {
      requests.get(i).replyTopic = i % 2 == 0 ? null : "replies." + i;
      requests.get(i).headers = new CarriedHeaders(new String[] {"traceparent"}, new byte[][] {("t" + i).getBytes()});
    }
    OperatorSubtaskState snapshot;
    List<Generation> beforeFailure;
    try (var h = harness(16)) {
      h.open();
      h.processElement(new RequestBatch(requests.toArray(new TokenizedRequest[0])), 0);
      runMail(h, 3); // part-way: every request has some tokens, none is finished
      snapshot = h.snapshot(1, 1);
      beforeFailure = new ArrayList<>(answers(h));
      runMail(h, 2); // work after the checkpoint is lost with the failure
    }
    assertTrue(beforeFailure.isEmpty(), "nothing should be finished after 3 steps");
    try (var restored = harness(16)) {
      restored.initializeState(snapshot);
      restored.open();
      runMail(restored, 1000);
      Map<String, Generation> out = byId(answers(restored));
      assertEquals(5, out.size());
      for (TokenizedRequest r : requests) {
        assertEquals(ReferenceGenerations.alone(r), out.get(r.requestId).getTokenIds(), r.requestId);
      }
      // the reply topic and headers were checkpointed with the requests (in-flight state version 3)
      for (RoutedGeneration routed : restored.extractOutputValues()) {
        int i = Integer.parseInt(routed.generation.getRequestId().substring(1));
        assertEquals(i % 2 == 0 ? null : "replies." + i, routed.replyTopic, routed.generation.getRequestId());
        assertEquals(new CarriedHeaders(new String[] {"traceparent"}, new byte[][] {("t" + i).getBytes()}),
            routed.headers);
      }
    }
  }

  @Test
  void inFlightRequestsAreSplitAcrossSubtasksWhenTheJobScalesOut() throws Exception {
    List<TokenizedRequest> requests = requests(6);
    OperatorSubtaskState snapshot;
    try (var h = harness(16)) {
      h.open();
      h.processElement(new RequestBatch(requests.toArray(new TokenizedRequest[0])), 0);
      runMail(h, 3);
      snapshot = h.snapshot(1, 1);
    }
    Map<String, Generation> out = new HashMap<>();
    for (int subtask = 0; subtask < 2; subtask++) {
      OperatorSubtaskState share = AbstractStreamOperatorTestHarness.repartitionOperatorState(snapshot, 8, 1, 2, subtask);
      InferenceSettings settings = new InferenceSettings(ReferenceGenerations.TINY_MODEL.toString(), 16, 1, "vector",
          8L << 20, 64, 8);
      try (var h = new OneInputStreamOperatorTestHarness<RequestBatch, RoutedGeneration>(
          new MoeInferenceOperatorFactory(settings, ExpertControl.full()), 8, 2, subtask)) {
        h.initializeState(share);
        h.open();
        runMail(h, 1000);
        List<Generation> mine = answers(h);
        assertTrue(mine.size() < 6, "subtask " + subtask + " got every request");
        mine.forEach(g -> assertTrue(out.put(g.getRequestId(), g) == null, "twice: " + g.getRequestId()));
      }
    }
    assertEquals(6, out.size());
    for (TokenizedRequest r : requests) {
      assertEquals(ReferenceGenerations.alone(r), out.get(r.requestId).getTokenIds(), r.requestId);
    }
  }

  @Test
  void aRequestPastItsDeadlineEndsWithAnError() throws Exception {
    TokenizedRequest late = ReferenceGenerations.request("late", 4, 3000, 0f, 1);
    late.deadlineEpochMs = System.currentTimeMillis() + 100;
    TokenizedRequest expired = ReferenceGenerations.request("expired", 4, 3, 0f, 2);
    expired.deadlineEpochMs = System.currentTimeMillis() - 1;
    try (var h = harness(4)) {
      h.open();
      h.processElement(new RequestBatch(new TokenizedRequest[] {late, expired}), 0);
      long giveUp = System.currentTimeMillis() + 30_000;
      while (answers(h).size() < 2 && System.currentTimeMillis() < giveUp) {
        runMail(h, 1);
      }
      Map<String, Generation> out = byId(answers(h));
      assertEquals(FinishReason.ERROR, out.get("expired").getFinishReason());
      assertTrue(out.get("expired").getError().contains("deadline"), out.get("expired").getError());
      assertEquals(FinishReason.ERROR, out.get("late").getFinishReason());
      assertTrue(out.get("late").getError().startsWith("deadline passed after"), out.get("late").getError());
      assertTrue(out.get("late").getCompletionTokens() < 3000);
    }
  }

  @Test
  void inputWaitsWhileTheInFlightCapIsReached() throws Exception {
    List<TokenizedRequest> requests = requests(7);
    try (var h = harness(3)) {
      h.open();
      // a batch of 7 with room for 3: processElement itself runs steps until each request fits
      h.processElement(new RequestBatch(requests.toArray(new TokenizedRequest[0])), 0);
      MoeInferenceOperator operator = (MoeInferenceOperator) h.getOneInputOperator();
      assertTrue(operator.inFlight() <= 3, "in flight " + operator.inFlight());
      assertTrue(answers(h).size() >= 4, "the first requests had to finish to make room");
      runMail(h, 1000);
      assertEquals(7, byId(answers(h)).size());
    }
  }

  @Test
  void aQualityFloorAndHighPriorityAreHonoured() throws Exception {
    TokenizedRequest r = ReferenceGenerations.request("floor", 4, 3, 0f, 1);
    r.minExpertsPerToken = 3;
    TokenizedRequest urgent = ReferenceGenerations.request("urgent", 4, 3, 0f, 2);
    urgent.priority = InFlightGenerations.HIGH_PRIORITY;
    TokenizedRequest plain = ReferenceGenerations.request("plain", 4, 3, 0f, 3);
    InferenceSettings settings = new InferenceSettings(ReferenceGenerations.TINY_MODEL.toString(), 4, 1, "vector",
        8L << 20, 64, 8);
    try (var h = new OneInputStreamOperatorTestHarness<RequestBatch, RoutedGeneration>(
        new MoeInferenceOperatorFactory(settings, ExpertControl.of("fixed:1")))) {
      h.open();
      h.processElement(new RequestBatch(new TokenizedRequest[] {r, urgent, plain}), 0);
      runMail(h, 100);
      Map<String, Generation> out = byId(answers(h));
      assertEquals(3, out.get("floor").getExpertsPerToken().getMin());
      assertEquals(3.0, out.get("floor").getExpertsPerToken().getMean(), 1e-9);
      assertEquals(4, out.get("urgent").getExpertsPerToken().getMin(), "HIGH priority: the model's own k");
      assertEquals(1, out.get("plain").getExpertsPerToken().getMin(), "no floor: what the policy says");
    }
  }

  @Test
  void adaptiveStepsDownWhileInputWaitsAndClimbsBackToTheFullModelWhenIdle() throws Exception {
    // dwell 0 and 1% of a second refused = overloaded: the trace is short; the rule is the controller's
    ControllerSettings fast = ControllerSettings.defaults().withDwell(0, 0).withScales(8, 0.01, 0.8, 0);
    InferenceSettings settings = new InferenceSettings(ReferenceGenerations.TINY_MODEL.toString(), 2, 1, "vector",
        8L << 20, 64, 8);
    try (var h = new OneInputStreamOperatorTestHarness<RequestBatch, RoutedGeneration>(
        new MoeInferenceOperatorFactory(settings, new ExpertControl("adaptive", fast, 0)))) {
      h.open();
      MoeInferenceOperator operator = (MoeInferenceOperator) h.getOneInputOperator();
      assertEquals(0, operator.expertLevel(), "no load: the full model");
      h.processElement(new RequestBatch(requests(12).toArray(new TokenizedRequest[0])), 0); // room for 2
      runMail(h, 1000);
      List<Generation> overloaded = answers(h);
      assertEquals(12, overloaded.size());
      assertTrue(overloaded.stream().anyMatch(g -> g.getExpertsPerToken().getMin() < 4),
          "some requests should have run below the model's 4 experts while input waited");
      assertTrue(operator.expertLevel() > 0, "level after the overload: " + operator.expertLevel());

      Thread.sleep(2_100); // the backpressured share looks back over (up to) two one-second buckets
      for (int tick = 1; tick <= 3; tick++) {
        h.setProcessingTime(tick * MoeInferenceOperator.CONTROLLER_TICK_MS);
        runMail(h, 10);
      }
      assertEquals(0, operator.expertLevel(), "idle: back to full quality");
      TokenizedRequest lone = ReferenceGenerations.request("lone", 5, 6, 0.9f, 77);
      h.processElement(new RequestBatch(new TokenizedRequest[] {lone}), 0);
      runMail(h, 1000);
      Generation g = byId(answers(h).subList(12, 13)).get("lone");
      assertEquals(4, g.getExpertsPerToken().getMin());
      assertEquals(ReferenceGenerations.alone(lone), g.getTokenIds(), "light load: identical to the full model");
    }
  }

  @Test
  void aPrunedModelAnswersAsTheEnginePrunedAloneAndNeverRoutesToADroppedExpert() throws Exception {
    boolean[][] kept = new boolean[3][16]; // the tiny model: 3 sparse layers of 16 experts, top-4
    for (int layer = 0; layer < kept.length; layer++) {
      for (int e = 0; e < 16; e++) {
        kept[layer][e] = (e + layer) % 2 == 0;
      }
    }
    ExpertControl pruned = ExpertControl.full().pruned(kept);
    assertEquals(8, pruned.expertsKept(16));
    List<TokenizedRequest> requests = requests(6);
    InferenceSettings settings = new InferenceSettings(ReferenceGenerations.TINY_MODEL.toString(), 8, 1, "vector",
        8L << 20, 64, 8);
    try (var h = new OneInputStreamOperatorTestHarness<RequestBatch, RoutedGeneration>(
        new MoeInferenceOperatorFactory(settings, pruned))) {
      h.open();
      MoeInferenceOperator operator = (MoeInferenceOperator) h.getOneInputOperator();
      h.processElement(new RequestBatch(requests.toArray(new TokenizedRequest[0])), 0);
      runMail(h, 1000);
      Map<String, Generation> out = byId(answers(h));
      int differing = 0;
      for (TokenizedRequest r : requests) {
        List<Integer> ids = out.get(r.requestId).getTokenIds();
        assertEquals(ReferenceGenerations.alone(r, pruned), ids, r.requestId);
        differing += ids.equals(ReferenceGenerations.alone(r)) ? 0 : 1;
      }
      assertTrue(differing > 0, "pruning half the experts changed no generation: was the model pruned at all?");
      long routed = 0;
      for (int layer = 0; layer < kept.length; layer++) {
        for (int e = 0; e < 16; e++) {
          long tokens = operator.expertTokens(layer, e);
          if (!kept[layer][e]) {
            assertEquals(0, tokens, "layer " + layer + " pruned expert " + e);
          }
          routed += tokens;
        }
      }
      assertTrue(routed > 0, "no token was routed");
    }
  }
}
