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

/**
 * The memory plan of one inference subtask's engine, checked when the job is submitted: a model that
 * cannot fit is refused here, naming the config fields to change, instead of failing on every
 * TaskManager (which checks again when it loads the model, against its own machine).
 *
 * <p>The figures are this machine's: right for a job in a local cluster (run, demo, corpus), and for a
 * cluster of similar machines; a TaskManager's own check is what counts for the others.
 */
final class JobMemoryCheck {
  /** The job's names of what to change. */
  static final MemoryCheck.Knobs KNOBS = new MemoryCheck.Knobs("model.kv_cache_mb", "model.max_batch_tokens",
      "model.allow_weights_over_ram", "the JVM heap (-Xmx, MOESTREAM_JAVA_OPTS; a TaskManager's task heap)");

  private JobMemoryCheck() {}

  static void check(JobConfig.Model model) {
    Path dir = Path.of(model.dir());
    ModelConfig config = ModelConfig.read(dir);
    Checkpoint checkpoint;
    try {
      checkpoint = Checkpoint.open(dir); // maps the files and reads their headers; no weight is read
    } catch (RuntimeException e) {
      throw new ConfigException("model.dir", e.getMessage());
    }
    EngineOptions options = engineOptions(model);
    MemoryPlan plan = MemoryPlan.of(config, checkpoint, options);
    MachineMemory machine = MachineMemory.read(model.backend(), 0);
    MemoryVerdict verdict = MemoryCheck.check(plan, machine, model.allowWeightsOverRam(), KNOBS);
    if (!verdict.fits()) {
      throw new ConfigException("model.kv_cache_mb", "the model does not fit in memory with this configuration:\n  - "
          + String.join("\n  - ", verdict.problems()) + "\n" + MemoryReport.render(plan, machine, verdict));
    }
  }

  /** The engine options each subtask's engine gets from the model section (the GPU's index is the TaskManager's). */
  static EngineOptions engineOptions(JobConfig.Model model) {
    return EngineOptions.defaults().withThreads(model.threads()).withKernels(model.kernels())
        .withKvCacheBytes(model.kvCacheMb() << 20).withMaxBatchTokens(model.maxBatchTokens())
        .withMaxRunningSequences(model.maxRunningSequences()).withBackend(model.backend())
        .withAllowWeightsOverRam(model.allowWeightsOverRam());
  }
}
