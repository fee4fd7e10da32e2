package io.moestream.job.config;

import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.plan.MachineMemory;
import io.moestream.engine.plan.MemoryCheck;
import io.moestream.engine.plan.MemoryPlan;
import io.moestream.engine.plan.MemoryReport;
import io.moestream.engine.plan.MemoryVerdict;
import java.nio.file.Path;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory plan of the job's engines, checked when the job is defined for submission, so a
 * configuration that cannot fit is refused before anything runs, naming the config fields to change.
 *
 * <p>Where the engines run in this JVM (a local cluster: {@code run} without {@code --jobmanager},
 * {@code demo}, {@code corpus}, the benchmarks) all {@code flink.parallelism} of them are held to this
 * JVM's heap and this machine's RAM. Submitted to a cluster (by {@code run --jobmanager}, or by the
 * JobManager running the entry class) this machine says nothing about the TaskManagers: the plan is
 * logged and each TaskManager checks it against its own machine when it loads the model.
 */
public final class JobMemoryCheck {
  private static final Logger LOG = LoggerFactory.getLogger(JobMemoryCheck.class);

  /** The job's names of what to change. */
  static final MemoryCheck.Knobs KNOBS = new MemoryCheck.Knobs("model.kv_cache_mb", "model.max_batch_tokens",
      "model.allow_weights_over_ram",
      "the JVM heap (-Xmx, MOESTREAM_JAVA_OPTS), or lower flink.parallelism (every engine is in this JVM)");

  private JobMemoryCheck() {}

  /** Checks the plan when {@code env} runs the engines in this JVM; logs it otherwise. */
  public static void atSubmit(JobConfig config, StreamExecutionEnvironment env) {
    if (env instanceof LocalStreamEnvironment) {
      check(config, MachineMemory.read(config.model().backend(), 0));
    } else {
      MemoryPlan plan = plan(config.model());
      LOG.info("memory plan of each engine (checked by every TaskManager when it loads the model): heap {}, RAM {}",
          MemoryReport.bytes(plan.heapBytes()), MemoryReport.bytes(plan.ramBytes()));
    }
  }

  /** All {@code flink.parallelism} engines in one JVM on {@code machine}; throws naming the fields when they do not fit. */
  static MemoryVerdict check(JobConfig config, MachineMemory machine) {
    MemoryPlan plan = plan(config.model());
    int engines = config.flink().parallelism();
    MemoryVerdict verdict = MemoryCheck.check(plan, engines, machine, config.model().allowWeightsOverRam(), KNOBS);
    if (!verdict.fits()) {
      throw new ConfigException("model.kv_cache_mb", "the job's " + engines + " engine(s) (flink.parallelism) do not"
          + " fit in memory with this configuration:\n  - " + String.join("\n  - ", verdict.problems()) + "\n"
          + "one engine's plan:\n" + MemoryReport.render(plan, machine, verdict));
    }
    verdict.warnings().forEach(w -> LOG.warn("memory: {}", w));
    return verdict;
  }

  private static MemoryPlan plan(JobConfig.Model model) {
    Path dir = Path.of(model.dir());
    Checkpoint checkpoint;
    try {
      checkpoint = Checkpoint.open(dir); // maps the files and reads their headers; no weight is read
    } catch (RuntimeException e) {
      throw new ConfigException("model.dir", e.getMessage());
    }
    return MemoryPlan.of(ModelConfig.read(dir), checkpoint, engineOptions(model));
  }

  /** The engine options each subtask's engine gets from the model section (the GPU's index is the TaskManager's). */
  static EngineOptions engineOptions(JobConfig.Model model) {
    return EngineOptions.defaults().withThreads(model.threads()).withKernels(model.kernels())
        .withKvCacheBytes(model.kvCacheMb() << 20).withMaxBatchTokens(model.maxBatchTokens())
        .withMaxRunningSequences(model.maxRunningSequences()).withBackend(model.backend())
        .withAllowWeightsOverRam(model.allowWeightsOverRam()).withAllowCpuFallback(model.allowCpuFallback())
        .withWeights(io.moestream.engine.model.WeightsMode.parse(model.weights(), "model.weights"));
  }
}
