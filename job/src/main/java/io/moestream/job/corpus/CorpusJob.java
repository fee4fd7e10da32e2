package io.moestream.job.corpus;

import io.moestream.job.config.JobConfig;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.operators.records.RawRequest;
import io.moestream.operators.records.RoutedDeadLetter;
import io.moestream.schemas.Generation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.UnionTransformation;

/**
 * Corpus mode's topology, in BATCH execution: corpus files -> skip finished -> the streaming job's
 * stages (decode/validate -> tokenize -> micro-batch -> MoE inference) -> a JSON lines file of
 * generations and one of dead letters, written record by record.
 *
 * <pre>
 * CorpusSource ─► SkipFinishedFunction ─► InferencePipeline.stages ─► generations-RUN-S-A.jsonl
 *                                                 └── rejects ────────► dead-letters-RUN-I-S-A.jsonl (I: 0 validate, 1 tokenize)
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

  /** The whole run's job: BATCH execution, the operators and the output files. */
  public static void define(StreamExecutionEnvironment env, Plan plan) {
    configure(env, plan.config());
    attachSinks(build(env, plan), plan);
  }

  /** BATCH execution, restarts and parallelism as configured (no checkpoints). */
  public static void configure(StreamExecutionEnvironment env, JobConfig config) {
    Configuration conf = new Configuration();
    conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, config.flink().restartAttempts() == 0 ? "none" : "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, config.flink().restartAttempts());
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
        Duration.ofMillis(config.flink().restartDelayMs()));
    env.configure(conf);
    env.setParallelism(config.flink().parallelism());
  }

  /** Files to inference; the output files are attached by {@link #attachSinks} (tests insert steps between). */
  public static InferencePipeline.Streams build(StreamExecutionEnvironment env, Plan plan) {
    JobConfig config = plan.config();
    DataStream<RawRequest> raw = env
        .fromSource(new CorpusSource(plan.files(), plan.format(), plan.defaults()), WatermarkStrategy.noWatermarks(),
            "Corpus files", TypeInformation.of(CorpusRecord.class))
        .uid(SOURCE_UID)
        .flatMap(new SkipFinishedFunction(plan.outputDir()), TypeInformation.of(RawRequest.class))
        .name("Skip finished records").uid(SKIP_UID);
    if (config.flink().parallelism() > 1) {
      raw = raw.rebalance(); // one file is one split: spread its records over every model replica
    }
    return InferencePipeline.stages(raw, plan.format().wire, config, null, null);
  }

  public static void attachSinks(InferencePipeline.Streams streams, Plan plan) {
    streams.generations()
        .map(routed -> routed.generation, TypeInformation.of(Generation.class)) // files have no topics or headers
        .name("Generations").uid(SINK_UID + "-unrouted")
        .sinkTo(new JsonLinesSink<>(plan.outputDir(), CorpusOutput.GENERATIONS, plan.runId(), CorpusOutput::generationLine))
        .name("Generations file").uid(SINK_UID);
    List<DataStream<RoutedDeadLetter>> rejects = perStage(streams.deadLetters());
    for (int i = 0; i < rejects.size(); i++) {
      rejects.get(i)
          .sinkTo(new JsonLinesSink<>(plan.outputDir(), CorpusOutput.DEAD_LETTERS, plan.runId() + "-" + i,
              (RoutedDeadLetter d) -> CorpusOutput.deadLetterLine(d.deadLetter))) // files have no headers
          .name("Dead letters file " + i).uid(DEAD_LETTER_SINK_UID + "-" + i);
    }
  }

  /**
   * The dead letters as the side outputs they are a union of. A sink reading a union has two inputs,
   * so it cannot be chained to the operators, and in BATCH execution an unchained edge is a blocking
   * exchange: the rejects would be written only after all inference is done. One sink per side output
   * is chained and writes each reject as it happens.
   */
  @SuppressWarnings("unchecked")
  private static List<DataStream<RoutedDeadLetter>> perStage(DataStream<RoutedDeadLetter> deadLetters) {
    if (!(deadLetters.getTransformation() instanceof UnionTransformation<RoutedDeadLetter> union)) {
      return List.of(deadLetters);
    }
    List<DataStream<RoutedDeadLetter>> streams = new ArrayList<>();
    for (Transformation<?> input : union.getInputs()) {
      streams.add(new DataStream<>(deadLetters.getExecutionEnvironment(), (Transformation<RoutedDeadLetter>) input));
    }
    return streams;
  }
}
