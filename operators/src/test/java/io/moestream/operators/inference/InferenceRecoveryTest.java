package io.moestream.operators.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.offsets.OffsetCommit;
import io.moestream.operators.offsets.OffsetCommitter;
import io.moestream.operators.offsets.SourcePartition;
import io.moestream.operators.records.RequestBatch;
import io.moestream.operators.records.TokenizedRequest;
import io.moestream.schemas.DeadLetter;
import io.moestream.operators.records.RoutedGeneration;
import io.moestream.schemas.Generation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Restores the inference operator survives, what it gives up on, and the offsets it commits. */
class InferenceRecoveryTest {
  /** Commits seen by the operators of a test (a committer is opened from a serializable recipe). */
  static final List<Map<SourcePartition, OffsetCommit>> COMMITS = new CopyOnWriteArrayList<>();

  private static final class Recording implements OffsetCommitter {
    @Override
    public void commit(Map<SourcePartition, OffsetCommit> commits) {
      COMMITS.add(commits);
    }

    @Override
    public void close() {}
  }

  private static OneInputStreamOperatorTestHarness<RequestBatch, RoutedGeneration> harness(int maxAttempts) throws Exception {
    InferenceSettings settings = new InferenceSettings(ReferenceGenerations.TINY_MODEL.toString(), 16, 1, "vector",
        8L << 20, 64, 8);
    return new OneInputStreamOperatorTestHarness<>(new MoeInferenceOperatorFactory(settings, ExpertControl.full(), null,
        new RecoverySettings(maxAttempts, Recording::new)));
  }

  private static List<TokenizedRequest> requests(int n, long firstOffset) {
    List<TokenizedRequest> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      TokenizedRequest r = ReferenceGenerations.request("r" + i, 3 + i % 3, i == 0 ? 2 : 40, 0f, 100 + i);
      r.sourceTopic = "requests";
      r.sourcePartition = i % 2;
      r.sourceOffset = firstOffset + i;
      r.receivedAtMs = 1_000 + i;
      list.add(r);
    }
    return list;
  }

  private static List<Generation> answers(OneInputStreamOperatorTestHarness<RequestBatch, RoutedGeneration> h) {
    return MoeInferenceOperatorTest.answers(h);
  }

  private static void runMail(OneInputStreamOperatorTestHarness<?, ?> h, int maxLetters) throws Exception {
    TaskMailbox mailbox = h.getTaskMailbox();
    for (int i = 0; i < maxLetters && mailbox.hasMail(); i++) {
      mailbox.take(TaskMailbox.MIN_PRIORITY).run();
    }
  }

  private static List<DeadLetter> deadLetters(OneInputStreamOperatorTestHarness<?, ?> h) {
    List<DeadLetter> out = new ArrayList<>();
    var records = h.getSideOutput(DeadLetters.TAG);
    if (records != null) {
      records.forEach(r -> out.add(r.getValue().deadLetter));
    }
    return out;
  }

  @Test
  void aRequestInFlightThroughTooManyRestoresIsDeadLetteredNotReplayedAgain() throws Exception {
    List<TokenizedRequest> requests = requests(3, 10).subList(1, 3); // long generations: never done in 2 steps
    OperatorSubtaskState snapshot;
    try (var h = harness(3)) {
      h.open();
      h.processElement(new RequestBatch(requests.toArray(new TokenizedRequest[0])), 0);
      runMail(h, 2);
      snapshot = h.snapshot(1, 1);
    }
    for (int restore = 1; restore <= 2; restore++) { // attempts 2 and 3 replay
      try (var h = harness(3)) {
        h.initializeState(snapshot);
        h.open();
        runMail(h, 2);
        assertTrue(deadLetters(h).isEmpty(), "restore " + restore + " gave up too early");
        snapshot = h.snapshot(restore + 1, restore + 1);
      }
    }
    try (var h = harness(3)) { // a fourth attempt is one too many
      h.initializeState(snapshot);
      h.open();
      runMail(h, 1000);
      assertTrue(answers(h).isEmpty(), "given-up requests must not be answered too");
      List<DeadLetter> dead = deadLetters(h);
      assertEquals(2, dead.size());
      for (DeadLetter d : dead) {
        assertEquals(DeadLetters.STAGE_INFERENCE, d.getStage());
        assertEquals("requests", d.getTopic());
        assertTrue(d.getReason().contains("3 restores"), d.getReason());
      }
      assertEquals(List.of(11L, 12L), dead.stream().map(DeadLetter::getOffset).sorted().toList());
    }
  }

  @Test
  void aCompletedCheckpointCommitsTheOldestUnansweredOffsetPerPartition() throws Exception {
    COMMITS.clear();
    List<TokenizedRequest> requests = requests(5, 100); // partition 0: 100, 102, 104; partition 1: 101, 103
    try (var h = harness(3)) {
      h.open();
      h.processElement(new RequestBatch(requests.toArray(new TokenizedRequest[0])), 0);
      while (answers(h).isEmpty()) {
        runMail(h, 1); // until r0 (offset 100, two tokens) is answered
      }
      h.snapshot(1, 1);
      assertTrue(COMMITS.isEmpty(), "nothing may be committed before the checkpoint completes");
      h.notifyOfCompletedCheckpoint(1);
      Map<SourcePartition, OffsetCommit> commits = COMMITS.get(COMMITS.size() - 1);
      assertEquals(new OffsetCommit(102, 1_002), commits.get(new SourcePartition("requests", 0)),
          "offset 100 is answered: the oldest unanswered of partition 0 is 102, read at 1002");
      assertEquals(new OffsetCommit(101, 1_001), commits.get(new SourcePartition("requests", 1)));
      runMail(h, 10_000);
      assertEquals(5, answers(h).size());
      assertEquals("requests", answers(h).get(0).getSource().getTopic());
      h.snapshot(2, 2);
      h.notifyOfCompletedCheckpoint(2);
      commits = COMMITS.get(COMMITS.size() - 1);
      assertEquals(new OffsetCommit(105, 1_004), commits.get(new SourcePartition("requests", 0)),
          "all answered: the offset after the newest seen");
      assertEquals(new OffsetCommit(104, 1_003), commits.get(new SourcePartition("requests", 1)));
    }
  }
}
