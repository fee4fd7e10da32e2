package io.moestream.operators.batching;

import io.moestream.operators.metrics.MetricNames;
import io.moestream.operators.records.RequestBatch;
import io.moestream.operators.records.TokenizedRequest;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;

/**
 * Micro-batches tokenized requests by load: a batch leaves when it reaches the size the traffic
 * calls for ({@link AdaptiveBatchSize}) or when its oldest request has waited the latency budget.
 *
 * <p>Timer lifecycle: at most one processing-time timer is pending, registered when the first
 * request enters an empty buffer and dropped (ignored when it fires) once that buffer left by size.
 * The buffer is operator state: requests waiting here at a checkpoint are restored with it, and a
 * restored buffer gets a fresh timer in {@link #open()}.
 */
public final class MicroBatchOperator extends AbstractStreamOperator<RequestBatch>
    implements OneInputStreamOperator<TokenizedRequest, RequestBatch>, ProcessingTimeCallback, BoundedOneInput {
  private static final long serialVersionUID = 1L;

  /** Requests buffered and not yet sent on, at the checkpoint. */
  public static final String BUFFER_STATE = "micro-batch-buffer";

  private final BatchingSettings settings;
  private transient List<TokenizedRequest> buffer;
  private transient ListState<TokenizedRequest> bufferState;
  private transient AdaptiveBatchSize batchSize;
  /** Deadline of the buffer's current timer; Long.MIN_VALUE when none is pending for this buffer. */
  private transient long flushAt;
  private transient Counter batches;

  public MicroBatchOperator(BatchingSettings settings) {
    this.settings = settings;
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    bufferState = context.getOperatorStateStore().getListState(
        new ListStateDescriptor<>(BUFFER_STATE, TokenizedRequest.class));
    buffer = new ArrayList<>();
    if (context.isRestored()) {
      bufferState.get().forEach(buffer::add);
    }
  }

  @Override
  public void open() throws Exception {
    super.open();
    batchSize = new AdaptiveBatchSize(settings);
    flushAt = Long.MIN_VALUE;
    batches = getMetricGroup().counter(MetricNames.BATCHES);
    getMetricGroup().gauge(MetricNames.BATCH_TARGET_SIZE, () -> batchSize.target());
    if (!buffer.isEmpty()) {
      scheduleFlush(getProcessingTimeService().getCurrentProcessingTime());
    }
  }

  @Override
  public void processElement(StreamRecord<TokenizedRequest> element) {
    long now = getProcessingTimeService().getCurrentProcessingTime();
    batchSize.onArrival(now);
    buffer.add(element.getValue());
    if (buffer.size() >= batchSize.target()) {
      flush();
    } else if (flushAt == Long.MIN_VALUE) {
      scheduleFlush(now);
    }
  }

  private void scheduleFlush(long now) {
    flushAt = now + settings.latencyBudgetMs();
    getProcessingTimeService().registerTimer(flushAt, this);
  }

  @Override
  public void onProcessingTime(long time) {
    if (time == flushAt && !buffer.isEmpty()) {
      flush();
    }
  }

  private void flush() {
    flushAt = Long.MIN_VALUE;
    output.collect(new StreamRecord<>(new RequestBatch(buffer.toArray(new TokenizedRequest[0]))));
    buffer.clear();
    batches.inc();
  }

  @Override
  public void endInput() {
    if (!buffer.isEmpty()) {
      flush();
    }
  }

  /**
   * Sends the buffer on before the barrier: at every checkpoint the inference operator holds each
   * request read before it, so the offsets it commits account for them all. The buffer's state stays
   * (empty at checkpoints taken here; savepoints of earlier releases may hold requests).
   */
  @Override
  public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
    super.prepareSnapshotPreBarrier(checkpointId);
    if (!buffer.isEmpty()) {
      flush();
    }
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    bufferState.update(buffer);
  }
}
