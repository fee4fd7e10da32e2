package io.moestream.operators.offsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.moestream.operators.records.TokenizedRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OffsetLedgerTest {
  private static TokenizedRequest at(String topic, int partition, long offset, long readAtMs) {
    TokenizedRequest r = new TokenizedRequest();
    r.requestId = topic + "-" + partition + "-" + offset;
    r.sourceTopic = topic;
    r.sourcePartition = partition;
    r.sourceOffset = offset;
    r.receivedAtMs = readAtMs;
    return r;
  }

  @Test
  void theOldestUnansweredWinsOverTheReadPositionAndTheNewestSeenOtherwise() {
    OffsetLedger ledger = new OffsetLedger();
    TokenizedRequest a = at("in", 0, 7, 100);
    TokenizedRequest b = at("in", 0, 9, 120);
    TokenizedRequest c = at("in", 1, 3, 110);
    List.of(a, b, c).forEach(ledger::observe);
    Map<SourcePartition, OffsetCommit> commits = ledger.commits(List.of(b, a));
    assertEquals(new OffsetCommit(7, 100), commits.get(new SourcePartition("in", 0)));
    assertEquals(new OffsetCommit(4, 110), commits.get(new SourcePartition("in", 1)), "all answered: after the newest");
    commits = ledger.commits(List.of(b));
    assertEquals(new OffsetCommit(9, 120), commits.get(new SourcePartition("in", 0)));
  }

  @Test
  void requestsWithoutCoordinatesAreNeitherCommittedNorBlocking() {
    OffsetLedger ledger = new OffsetLedger();
    TokenizedRequest restoredFromVersion1 = at(null, 0, -1, 5);
    ledger.observe(restoredFromVersion1);
    TokenizedRequest a = at("in", 0, 2, 50);
    ledger.observe(a);
    Map<SourcePartition, OffsetCommit> commits = ledger.commits(List.of(restoredFromVersion1));
    assertEquals(Map.of(new SourcePartition("in", 0), new OffsetCommit(3, 50)), commits);
    assertFalse(new OffsetLedger().commits(List.of()).containsKey(new SourcePartition("in", 0)));
  }
}
