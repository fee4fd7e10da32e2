package io.moestream.job.corpus;

import io.moestream.job.config.JobConfig;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.operators.records.RawRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.BatchShuffleMode;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Corpus mode's topology, in BATCH execution: corpus files -> skip finished -> the streaming job's
 * stages (decode/validate -> tokenize -> micro-batch -> MoE inference) -> a JSON lines file of
 * generations and one of dead letters, written record by record.
 *
 * <pre>
 * CorpusSource ─► SkipFinishedFunction ─► InferencePipeline.stages ─► generations-RUN-S-A.jsonl
 *                                                 └── rejects ────────► dead-letters-RUN-S-A.jsonl
 * </pre>
 */
public final class CorpusJob {
  public static final String SOURCE_UID = "corpus-files";
  public static final String SKIP_UID = "corpus-skip-finished";
  public static final String SINK_UID = "corpus-generations";
  public static final String DEAD_LETTER_SINK_UID = "corpus-dead-letters";

  /** What one run reads and where it writes. */
  public record Plan(List<CorpusFiles.InputFile> files, CorpusFormat format, PromptDefaults defaults, Path outputDir,
      String runId, JobConfig config) {}

  private CorpusJob() {}

  public static void define(StreamExecutionEnvironment env, Plan plan) {
    JobConfig config = plan.config();
    Configuration conf = new Configuration();
    conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
    // the dead-letter sink reads a union of two side outputs, so it is a task of its own; pipelined
    // exchanges let it write as rejects happen instead of after all inference is done
    conf.set(ExecutionOptions.BATCH_SHUFFLE_MODE, BatchShuffleMode.ALL_EXCHANGES_PIPELINED);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, config.flink().restartAttempts() == 0 ? "none" : "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, config.flink().restartAttempts());
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
        Duration.ofMillis(config.flink().restartDelayMs()));
    env.configure(conf);
    env.setParallelism(config.flink().parallelism());

    DataStream<RawRequest> raw = env
        .fromSource(new CorpusSource(plan.files(), plan.format(), plan.defaults()), WatermarkStrategy.noWatermarks(),
            "Corpus files", TypeInformation.of(CorpusRecord.class))
        .uid(SOURCE_UID)
        .flatMap(new SkipFinishedFunction(plan.outputDir()), TypeInformation.of(RawRequest.class))
        .name("Skip finished records").uid(SKIP_UID);
    if (config.flink().parallelism() > 1) {
      raw = raw.rebalance(); // one file is one split: spread its records over every model replica
    }
    InferencePipeline.Streams streams = InferencePipeline.stages(raw, plan.format().wire, config, null);
    streams.generations()
        .sinkTo(new JsonLinesSink<>(plan.outputDir(), CorpusOutput.GENERATIONS, plan.runId(), CorpusOutput::generationLine))
        .name("Generations file").uid(SINK_UID);
    streams.deadLetters()
        .sinkTo(new JsonLinesSink<>(plan.outputDir(), CorpusOutput.DEAD_LETTERS, plan.runId(), CorpusOutput::deadLetterLine))
        .name("Dead letters file").uid(DEAD_LETTER_SINK_UID);
  }
}
