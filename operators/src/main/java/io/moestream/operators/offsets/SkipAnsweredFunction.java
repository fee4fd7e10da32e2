package io.moestream.operators.offsets;

import io.moestream.operators.metrics.MetricNames;
import io.moestream.operators.records.RawRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drops the input records an earlier job already answered, first thing after the source. A job
 * submitted without a savepoint starts from its group's committed offsets, which are the oldest
 * unanswered request's ({@link OffsetLedger}); the requests after it that the earlier job did answer
 * are read again, and their answers are in the output and dead-letter topics. Those offsets are
 * looked up once, when the job starts with no state, and kept in state (union: every subtask gets
 * them all after a rescale) until the reading has passed them, so a restore before then still skips
 * them.
 */
public final class SkipAnsweredFunction extends ProcessFunction<RawRequest, RawRequest> implements CheckpointedFunction {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(SkipAnsweredFunction.class);

  /** Answered offsets still ahead of the reading, per partition. */
  public static final String ANSWERED_STATE = "answered-before-start";

  private final AnsweredRequests.Factory answered;
  private transient Map<SourcePartition, long[]> toSkip;
  private transient ListState<AnsweredOffsets> state;
  private transient Counter skipped;

  /** A Flink POJO: the state's entry. */
  public static class AnsweredOffsets {
    public String topic;
    public int partition;
    public long[] offsets;

    public AnsweredOffsets() {}

    AnsweredOffsets(SourcePartition p, long[] offsets) {
      this.topic = p.topic();
      this.partition = p.partition();
      this.offsets = offsets;
    }
  }

  public SkipAnsweredFunction(AnsweredRequests.Factory answered) {
    this.answered = answered;
  }

  @Override
  public void initializeState(FunctionInitializationContext context) throws Exception {
    state = context.getOperatorStateStore().getUnionListState(
        new ListStateDescriptor<>(ANSWERED_STATE, AnsweredOffsets.class));
    toSkip = new HashMap<>();
    if (context.isRestored()) {
      for (AnsweredOffsets entry : state.get()) {
        toSkip.merge(new SourcePartition(entry.topic, entry.partition), entry.offsets, SkipAnsweredFunction::union);
      }
      return;
    }
    toSkip.putAll(answered.open().answeredSinceCommit());
    toSkip.forEach((p, offsets) -> LOG.info("{} requests of {}-{} at or after its committed offset were answered by an "
        + "earlier job; they are read again and skipped ({} to {})", offsets.length, p.topic(), p.partition(),
        offsets[0], offsets[offsets.length - 1]));
  }

  @Override
  public void open(OpenContext context) {
    skipped = getRuntimeContext().getMetricGroup().counter(MetricNames.REQUESTS_ALREADY_ANSWERED);
  }

  @Override
  public void processElement(RawRequest raw, Context ctx, Collector<RawRequest> out) {
    if (!toSkip.isEmpty()) {
      SourcePartition partition = new SourcePartition(raw.topic, raw.partition);
      long[] offsets = toSkip.get(partition);
      if (offsets != null) {
        if (raw.offset >= offsets[offsets.length - 1]) {
          toSkip.remove(partition); // the reading has passed every answered offset of this partition
        }
        if (Arrays.binarySearch(offsets, raw.offset) >= 0) {
          skipped.inc();
          return;
        }
      }
    }
    out.collect(raw);
  }

  @Override
  public void snapshotState(FunctionSnapshotContext context) throws Exception {
    List<AnsweredOffsets> entries = new ArrayList<>(toSkip.size());
    toSkip.forEach((p, offsets) -> entries.add(new AnsweredOffsets(p, offsets)));
    state.update(entries);
  }

  private static long[] union(long[] a, long[] b) {
    return java.util.stream.LongStream.concat(Arrays.stream(a), Arrays.stream(b)).distinct().sorted().toArray();
  }
}
