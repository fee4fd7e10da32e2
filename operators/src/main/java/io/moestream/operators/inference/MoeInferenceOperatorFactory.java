package io.moestream.operators.inference;

import io.moestream.operators.metrics.ConsumerLag;
import io.moestream.operators.records.RequestBatch;
import io.moestream.operators.records.RoutedGeneration;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/** Creates {@link MoeInferenceOperator}s with the task's mailbox executor (what the operator steps through). */
public final class MoeInferenceOperatorFactory extends AbstractStreamOperatorFactory<RoutedGeneration>
    implements OneInputStreamOperatorFactory<RequestBatch, RoutedGeneration> {
  private static final long serialVersionUID = 1L;

  private final InferenceSettings settings;
  private final ExpertControl expertControl;
  private final ConsumerLag.Factory consumerLag;
  private final RecoverySettings recovery;

  public MoeInferenceOperatorFactory(InferenceSettings settings, ExpertControl expertControl) {
    this(settings, expertControl, null);
  }

  /** @param consumerLag where the load signals read consumer lag from; null when the job cannot tell */
  public MoeInferenceOperatorFactory(InferenceSettings settings, ExpertControl expertControl,
      ConsumerLag.Factory consumerLag) {
    this(settings, expertControl, consumerLag, RecoverySettings.defaults());
  }

  public MoeInferenceOperatorFactory(InferenceSettings settings, ExpertControl expertControl,
      ConsumerLag.Factory consumerLag, RecoverySettings recovery) {
    this.settings = settings;
    this.expertControl = expertControl;
    this.consumerLag = consumerLag;
    this.recovery = recovery;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends StreamOperator<RoutedGeneration>> T createStreamOperator(StreamOperatorParameters<RoutedGeneration> parameters) {
    return (T) new MoeInferenceOperator(parameters, settings, expertControl, consumerLag, recovery);
  }

  @Override
  public Class<? extends StreamOperator<?>> getStreamOperatorClass(ClassLoader classLoader) {
    return MoeInferenceOperator.class;
  }
}
