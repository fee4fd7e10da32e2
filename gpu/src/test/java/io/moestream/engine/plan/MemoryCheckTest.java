package io.moestream.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fit rules against injected machine figures, and the readers of /proc/meminfo and cgroup files. */
class MemoryCheckTest {
  private static final long GIB = 1L << 30;
  private static final MemoryCheck.Knobs KNOBS = MemoryCheck.Knobs.ENGINE;

  @TempDir Path tmp;
  private MemoryPlan plan; // KV cache 64 MiB
  private Path folder;

  @BeforeEach
  void writeModel() throws Exception {
    folder = tmp.resolve("model");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE), folder);
    plan = MemoryPlan.of(ModelConfig.read(folder), Checkpoint.open(folder),
        new EngineOptions(2, "vector", 64L << 20, 16, 128, 8));
  }

  @Test
  void fitsOnALargeMachine() {
    MemoryVerdict verdict = MemoryCheck.check(plan, machine(16 * GIB, -1, 4 * GIB, null), false, KNOBS);
    assertTrue(verdict.fits(), verdict.toString());
    assertEquals(0, verdict.warnings().size());
  }

  @Test
  void heapTooSmallNamesTheNumbersAndTheOptions() {
    MemoryVerdict verdict = MemoryCheck.check(plan, machine(16 * GIB, -1, 64L << 20, null), false, KNOBS);
    assertEquals(1, verdict.problems().size(), verdict.toString());
    String problem = verdict.problems().get(0);
    assertTrue(problem.contains(String.format(java.util.Locale.ROOT, "%,d B", plan.heapBytes())), problem);
    assertTrue(problem.contains("KV cache 67,108,864 B"), problem);
    assertTrue(problem.contains("67,108,864 B (0.06 GiB)") && problem.contains("--kv-cache-mb"), problem);
    assertTrue(problem.contains("--max-batch-tokens") && problem.contains("-Xmx"), problem);
  }

  /** A cgroup limit below the RAM is the limit; weights over it fail unless allowed, then warn. */
  @Test
  void weightsOverTheCgroupLimit() {
    long heapAndHalfTheWeights = plan.heapBytes() + plan.weights().mappedBytes() / 2;
    MachineMemory small = machine(16 * GIB, heapAndHalfTheWeights, 4 * GIB, null);
    assertEquals(heapAndHalfTheWeights, small.ramLimitBytes());
    MemoryVerdict refused = MemoryCheck.check(plan, small, false, KNOBS);
    assertEquals(1, refused.problems().size(), refused.toString());
    assertTrue(refused.problems().get(0).contains("cgroup memory limit"), refused.problems().get(0));
    assertTrue(refused.problems().get(0).contains("--allow-weights-over-ram"), refused.problems().get(0));
    MemoryVerdict allowed = MemoryCheck.check(plan, small, true, KNOBS);
    assertTrue(allowed.fits(), allowed.toString());
    assertEquals(1, allowed.warnings().size());
  }

  /** A heap larger than the RAM cannot be allowed. */
  @Test
  void heapOverTheRamFailsEvenWhenAllowed() {
    MemoryVerdict verdict = MemoryCheck.check(plan, machine(plan.heapBytes() - 1, -1, 64 * GIB, null), true, KNOBS);
    assertEquals(1, verdict.problems().size(), verdict.toString());
    assertTrue(verdict.problems().get(0).startsWith("RAM: the heap alone"), verdict.problems().get(0));
  }

  @Test
  void gpuRules() throws Exception {
    MemoryPlan cuda = MemoryPlan.of(ModelConfig.read(folder), Checkpoint.open(folder),
        new EngineOptions(2, "vector", 64L << 20, 16, 128, 8).withBackend("cuda"));
    MachineMemory.Gpu tiny = new MachineMemory.Gpu(true, 80L << 20, 16L << 20, "test GPU");
    MemoryVerdict tooSmall = MemoryCheck.check(cuda, machine(16 * GIB, -1, 4 * GIB, tiny), false, KNOBS);
    assertEquals(1, tooSmall.problems().size(), tooSmall.toString());
    assertTrue(tooSmall.problems().get(0).startsWith("GPU: weights as BF16"), tooSmall.problems().get(0));
    MachineMemory.Gpu none = new MachineMemory.Gpu(false, 0, 0, "the CUDA driver reports no device");
    MemoryVerdict noGpu = MemoryCheck.check(cuda, machine(16 * GIB, -1, 4 * GIB, none), false, KNOBS);
    assertTrue(noGpu.fits());
    assertTrue(noGpu.notes().get(0).startsWith("no GPU"), noGpu.notes().toString());
    MemoryPlan auto = MemoryPlan.of(ModelConfig.read(folder), Checkpoint.open(folder),
        new EngineOptions(2, "vector", 64L << 20, 16, 128, 8).withBackend("auto"));
    MemoryVerdict autoSmall = MemoryCheck.check(auto, machine(16 * GIB, -1, 4 * GIB, tiny), false, KNOBS);
    assertTrue(autoSmall.fits(), "auto falls back to the CPU");
    assertEquals(1, autoSmall.warnings().size());
  }

  /** Loading fails before allocating when the KV cache alone is larger than the heap, with the plan in the message. */
  @Test
  void loadFailsAtOnce() {
    long kvBytes = Runtime.getRuntime().maxMemory() + (256L << 20);
    MemoryException e = assertThrows(MemoryException.class,
        () -> LoadedModel.load(folder, new EngineOptions(1, "vector", kvBytes, 16, 64, 8)));
    assertTrue(e.getMessage().startsWith("the model does not fit in memory (nothing was allocated)"), e.getMessage());
    assertTrue(e.getMessage().contains("verdict: DOES NOT FIT"), e.getMessage());
  }

  @Test
  void readsMeminfoAndCgroupFiles() {
    String meminfo = "MemTotal:       24568064 kB\nMemFree:        22000000 kB\nMemAvailable:   23000000 kB\n";
    assertEquals(24568064L * 1024, MachineMemory.meminfoBytes(meminfo, "MemTotal"));
    assertEquals(23000000L * 1024, MachineMemory.meminfoBytes(meminfo, "MemAvailable"));
    assertEquals(-1, MachineMemory.meminfoBytes(meminfo, "SwapTotal"));
    assertEquals(-1, MachineMemory.cgroupLimit("max\n"));
    assertEquals(2147483648L, MachineMemory.cgroupLimit("2147483648\n"));
    assertEquals(-1, MachineMemory.cgroupLimit("9223372036854771712")); // v1 without a limit
    assertEquals(-1, MachineMemory.cgroupLimit(null));
    MachineMemory here = MachineMemory.read("cpu", 0);
    assertEquals(Runtime.getRuntime().maxMemory(), here.maxHeapBytes());
    assertEquals(null, here.gpu(), "the CPU backend probes no GPU");
  }

  /** weights int8: the quantized copies count in the RAM, and must fit this JVM's direct-memory limit. */
  @Test
  void int8WeightsCountInTheRamAndMustFitTheDirectMemoryLimit() {
    MemoryPlan int8 = MemoryPlan.of(plan.config(), Checkpoint.open(folder),
        new EngineOptions(2, "vector", 64L << 20, 16, 128, 8).withWeights(io.moestream.engine.model.WeightsMode.INT8));
    assertTrue(int8.weights().int8Bytes() > 0);
    assertEquals(int8.weights().mappedBytes() + int8.heapBytes() + int8.weights().int8Bytes(), int8.ramBytes());
    assertTrue(MemoryCheck.check(int8, machine(16 * GIB, -1, 4 * GIB, null), false, KNOBS).fits());
    long limit = MemoryCheck.maxDirectMemoryBytes();
    assertTrue(limit > 0, "HotSpot reports its direct-memory limit");
    WeightBytes huge = new WeightBytes(int8.weights().mappedByKind(), int8.weights().heapCopiedBytes(),
        int8.weights().deviceBytes(), limit + 1);
    MemoryPlan tooLarge = new MemoryPlan(int8.config(), huge, int8.kvLayerKind(), int8.kvKeyFloats(),
        int8.kvValueFloats(), int8.kvBlocks(), int8.kvBlockSize(), int8.kvCacheBytes(), int8.maxBatchTokens(),
        int8.scratch(), int8.threads(), int8.backend(), int8.kvLayout());
    MemoryVerdict verdict = MemoryCheck.check(tooLarge, machine(1L << 50, -1, 4 * GIB, null), false, KNOBS);
    assertEquals(1, verdict.problems().size(), verdict.toString());
    assertTrue(verdict.problems().get(0).startsWith("direct memory: weights int8 need")
        && verdict.problems().get(0).contains("-XX:MaxDirectMemorySize"), verdict.toString());
  }

  private static MachineMemory machine(long ram, long cgroup, long maxHeap, MachineMemory.Gpu gpu) {
    return new MachineMemory(ram, ram / 2, cgroup, maxHeap, gpu);
  }
}
