package io.moestream.operators.offsets;

import io.moestream.operators.records.TokenizedRequest;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which input offsets a subtask may commit: per partition the oldest request it holds unanswered,
 * or, when it holds none, the offset after the newest request it has seen. Committing the read
 * position instead (what the Kafka source does) loses the requests in flight when a job is
 * cancelled and submitted again without a savepoint: they sit before the committed offset and only
 * the discarded checkpoint knew them.
 *
 * <p>Records rejected before the inference operator are never seen here, so the committed offset
 * can stay behind a run of dead letters: a new job reads them again and finds their dead letters
 * ({@code SkipAnsweredFunction}). Committing less than the read position is always safe; more never is.
 */
public final class OffsetLedger {
  /** Per partition: the newest offset seen and when it was read. */
  private final Map<SourcePartition, long[]> newestSeen = new HashMap<>();

  /** A request has reached the operator (new, or restored from a checkpoint). */
  public void observe(TokenizedRequest request) {
    if (request.sourceTopic == null || request.sourceOffset < 0) {
      return;
    }
    newestSeen.merge(new SourcePartition(request.sourceTopic, request.sourcePartition),
        new long[] {request.sourceOffset, request.receivedAtMs},
        (old, now) -> now[0] > old[0] ? now : old);
  }

  /**
   * The offsets to commit once the checkpoint taken now completes, given the requests still
   * unanswered at it.
   */
  public Map<SourcePartition, OffsetCommit> commits(Iterable<TokenizedRequest> unanswered) {
    Map<SourcePartition, OffsetCommit> out = new LinkedHashMap<>();
    newestSeen.forEach((partition, newest) -> out.put(partition, new OffsetCommit(newest[0] + 1, newest[1])));
    Map<SourcePartition, OffsetCommit> oldest = new HashMap<>();
    for (TokenizedRequest r : unanswered) {
      if (r.sourceTopic == null || r.sourceOffset < 0) {
        continue;
      }
      SourcePartition partition = new SourcePartition(r.sourceTopic, r.sourcePartition);
      OffsetCommit known = oldest.get(partition);
      if (known == null || r.sourceOffset < known.offset()) {
        oldest.put(partition, new OffsetCommit(r.sourceOffset, r.receivedAtMs));
      }
    }
    out.putAll(oldest);
    return out;
  }
}
