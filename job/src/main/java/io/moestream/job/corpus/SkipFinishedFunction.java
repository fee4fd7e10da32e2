package io.moestream.job.corpus;

import io.moestream.operators.records.RawRequest;
import java.nio.file.Path;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;

/**
 * Drops the records the output directory already holds an answer for and passes the rest on as raw
 * requests (file name as the topic, line as the offset: dead letters say where a record came from).
 * The finished keys are read in {@code open()}, so a task restarted within a run skips what its
 * failed attempt wrote, just as a rerun skips what an earlier run wrote.
 */
final class SkipFinishedFunction extends RichFlatMapFunction<CorpusRecord, RawRequest> {
  private static final long serialVersionUID = 1L;
  static final String SKIPPED_METRIC = "corpusSkippedFinished";

  private final String outputDir;
  private transient Set<String> finished;
  private transient Counter skipped;

  SkipFinishedFunction(Path outputDir) {
    this.outputDir = outputDir.toString();
  }

  @Override
  public void open(OpenContext context) {
    finished = CorpusOutput.finished(Path.of(outputDir), false).keys();
    skipped = getRuntimeContext().getMetricGroup().counter(SKIPPED_METRIC);
  }

  @Override
  public void flatMap(CorpusRecord record, Collector<RawRequest> out) {
    if (finished.contains(record.key)) {
      skipped.inc();
      return;
    }
    out.collect(new RawRequest(record.value, record.file, 0, record.line));
  }
}
