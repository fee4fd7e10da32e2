package io.moestream.job.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.plan.MachineMemory;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import io.moestream.job.pipeline.InferencePipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Submit time: a configuration whose engines cannot fit is refused with the plan's numbers and the fields to change. */
class JobMemoryCheckTest {
  @TempDir Path tmp;
  private String model;

  @BeforeEach
  void writeModel() throws Exception {
    Path dir = tmp.resolve("model");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE), dir);
    Files.writeString(dir.resolve("tokenizer.json"), "{}");
    model = dir.toString();
  }

  /** Defining the job for a local cluster fails before anything runs when the KV cache is larger than the heap. */
  @Test
  void aKvCacheLargerThanTheHeapIsRefusedWhenTheJobIsDefined() {
    long tooMuch = (Runtime.getRuntime().maxMemory() >> 20) + 256;
    JobConfig config = JobConfigLoader.defaults().set("model.dir", model).set("model.kv_cache_mb", tooMuch)
        .set("flink.parallelism", 1).build();
    StreamExecutionEnvironment local = StreamExecutionEnvironment.createLocalEnvironment();
    ConfigException e = assertThrows(ConfigException.class, () -> InferencePipeline.define(local, config));
    String message = e.getMessage();
    assertTrue(message.startsWith("configuration field 'model.kv_cache_mb': the job's 1 engine(s)"
        + " (flink.parallelism) do not fit in memory"), message);
    assertTrue(message.contains(String.format(Locale.ROOT, "KV cache %,d B", tooMuch << 20)), message);
    assertTrue(message.contains("lower model.kv_cache_mb or model.max_batch_tokens"), message);
    assertTrue(message.contains("verdict: DOES NOT FIT"), message);
  }

  /** Every subtask of a local cluster has its own engine in this JVM: the heap is held to all of them. */
  @Test
  void everyEngineOfALocalClusterCounts() {
    MachineMemory machine = new MachineMemory(16L << 30, 8L << 30, -1, 200L << 20, null); // a 200 MiB heap
    JobConfigLoader loader = JobConfigLoader.defaults().set("model.dir", model).set("model.kv_cache_mb", 64);
    assertTrue(JobMemoryCheck.check(loader.set("flink.parallelism", 1).build(), machine).fits());
    ConfigException e = assertThrows(ConfigException.class,
        () -> JobMemoryCheck.check(loader.set("flink.parallelism", 4).build(), machine));
    assertTrue(e.getMessage().contains("heap: 4 engines in this JVM need 4 x "), e.getMessage());
    assertTrue(e.getMessage().contains("flink.parallelism"), e.getMessage());
  }

  /** Submitted to a cluster, this machine says nothing about the TaskManagers: they check on load. */
  @Test
  void aRemoteClusterIsLeftToItsTaskManagers() {
    JobConfig config = JobConfigLoader.defaults().set("model.dir", model)
        .set("model.kv_cache_mb", (Runtime.getRuntime().maxMemory() >> 20) + 256).build();
    JobMemoryCheck.atSubmit(config, StreamExecutionEnvironment.createRemoteEnvironment("127.0.0.1", 1));
  }

  @Test
  void theOverrideIsABooleanAndReachesTheEngineOptions() {
    JobConfig config = JobConfigLoader.defaults().set("model.dir", model).build();
    assertEquals(false, config.model().allowWeightsOverRam());
    ConfigException e = assertThrows(ConfigException.class, () -> JobConfigLoader.defaults().set("model.dir", model)
        .set("model.allow_weights_over_ram", "yes").build());
    assertTrue(e.getMessage().contains("'model.allow_weights_over_ram'"), e.getMessage());
    JobConfig set = JobConfigLoader.defaults().set("model.dir", model).set("model.kv_cache_mb", 32)
        .set("model.max_batch_tokens", 96).set("model.allow_weights_over_ram", "true").build();
    var options = JobMemoryCheck.engineOptions(set.model());
    assertEquals(32L << 20, options.kvCacheBytes());
    assertEquals(96, options.maxBatchTokens());
    assertEquals(true, options.allowWeightsOverRam());
  }

  @Test
  void theCpuFallbackIsOffByDefaultAndReachesTheEngineOnEveryPath() {
    JobConfig config = JobConfigLoader.defaults().set("model.dir", model).build();
    assertEquals(false, config.model().allowCpuFallback());
    assertEquals(false, io.moestream.job.pipeline.InferencePipeline.inferenceSettings(config).engineOptions(1)
        .allowCpuFallback());
    ConfigException e = assertThrows(ConfigException.class, () -> JobConfigLoader.defaults().set("model.dir", model)
        .set("model.allow_cpu_fallback", "maybe").build());
    assertTrue(e.getMessage().contains("'model.allow_cpu_fallback'"), e.getMessage());
    JobConfig set = JobConfigLoader.defaults().set("model.dir", model).set("model.backend", "auto")
        .set("model.allow_cpu_fallback", "true").build();
    assertEquals(true, JobMemoryCheck.engineOptions(set.model()).allowCpuFallback());
    var subtask = io.moestream.job.pipeline.InferencePipeline.inferenceSettings(set).engineOptions(1);
    assertEquals(true, subtask.allowCpuFallback());
    assertEquals("auto", subtask.backend());
    assertEquals(1, subtask.deviceIndex());
  }
}
