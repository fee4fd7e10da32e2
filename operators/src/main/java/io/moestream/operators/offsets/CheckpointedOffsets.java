package io.moestream.operators.offsets;

import io.moestream.operators.records.TokenizedRequest;
import java.util.Map;
import java.util.TreeMap;

/**
 * The inference operator's side of offset commits: what each checkpoint may commit is fixed when the
 * checkpoint is taken ({@link OffsetLedger}) and committed once Flink says it is complete, so a
 * committed offset never runs ahead of state that a restore could still need.
 */
public final class CheckpointedOffsets implements AutoCloseable {
  private final OffsetLedger ledger = new OffsetLedger();
  private final OffsetCommitter committer;
  /** By checkpoint id: the commits taken at that checkpoint, until it completes or a later one does. */
  private final TreeMap<Long, Map<SourcePartition, OffsetCommit>> pending = new TreeMap<>();

  /** @param committer where completed checkpoints' offsets go; null: nothing is committed (corpus mode, tests) */
  public CheckpointedOffsets(OffsetCommitter committer) {
    this.committer = committer;
  }

  public void observe(TokenizedRequest request) {
    ledger.observe(request);
  }

  /** A checkpoint is being taken with these requests unanswered. */
  public void checkpoint(long checkpointId, Iterable<TokenizedRequest> unanswered) {
    if (committer != null) {
      pending.put(checkpointId, ledger.commits(unanswered));
    }
  }

  /** Commits what checkpoint {@code checkpointId} held; older pending checkpoints are subsumed. */
  public void checkpointComplete(long checkpointId) {
    Map<SourcePartition, OffsetCommit> commits = pending.get(checkpointId);
    pending.headMap(checkpointId, true).clear();
    if (commits != null && !commits.isEmpty()) {
      committer.commit(commits);
    }
  }

  @Override
  public void close() {
    if (committer != null) {
      committer.close();
    }
  }
}
