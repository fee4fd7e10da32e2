package io.moestream.job.kafka;

import java.io.IOException;
import java.util.Collection;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaWriterState;
import org.apache.flink.connector.kafka.sink.TwoPhaseCommittingStatefulSink;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.api.connector.sink2.SupportsPostCommitTopology;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.lineage.LineageVertex;
import org.apache.flink.streaming.api.lineage.LineageVertexProvider;

/**
 * An exactly-once {@link KafkaSink} whose committer first asks the transaction coordinator about each
 * transaction restored from a checkpoint, so that one the failed attempt had already committed is not
 * reported as fenced "data loss" ({@link RecoveredTransactionCommitter} says why that happens). The
 * writer, its state, the committables and the topology are the KafkaSink's own.
 */
public final class RecoveryCheckingKafkaSink<IN> implements TwoPhaseCommittingStatefulSink<IN, KafkaWriterState,
    KafkaCommittable>, SupportsPostCommitTopology<KafkaCommittable>, LineageVertexProvider {
  private static final long serialVersionUID = 1L;

  private final KafkaSink<IN> kafka;
  private final Properties adminConfig;

  /**
   * @param kafka an EXACTLY_ONCE KafkaSink
   * @param adminConfig where the coordinator is asked: the sink's bootstrap servers (and security settings)
   */
  public RecoveryCheckingKafkaSink(KafkaSink<IN> kafka, Properties adminConfig) {
    this.kafka = kafka;
    this.adminConfig = adminConfig;
  }

  @Override
  public Committer<KafkaCommittable> createCommitter(CommitterInitContext context) throws IOException {
    return new RecoveredTransactionCommitter(kafka.createCommitter(context), adminConfig);
  }

  @Override
  public SimpleVersionedSerializer<KafkaCommittable> getCommittableSerializer() {
    return kafka.getCommittableSerializer();
  }

  @Override
  public PrecommittingStatefulSinkWriter<IN, KafkaWriterState, KafkaCommittable> createWriter(
      WriterInitContext context) throws IOException {
    return kafka.createWriter(context);
  }

  @Override
  public PrecommittingStatefulSinkWriter<IN, KafkaWriterState, KafkaCommittable> restoreWriter(
      WriterInitContext context, Collection<KafkaWriterState> recoveredState) throws IOException {
    return kafka.restoreWriter(context, recoveredState);
  }

  @Override
  public SimpleVersionedSerializer<KafkaWriterState> getWriterStateSerializer() {
    return kafka.getWriterStateSerializer();
  }

  /** The KafkaSink's own: it co-locates writer and committer by the transactional id prefix. */
  @Override
  public void addPostCommitTopology(DataStream<CommittableMessage<KafkaCommittable>> committables) {
    kafka.addPostCommitTopology(committables);
  }

  @Override
  public LineageVertex getLineageVertex() {
    return kafka.getLineageVertex();
  }
}
