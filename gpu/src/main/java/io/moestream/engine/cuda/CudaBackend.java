package io.moestream.engine.cuda;

import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.PhaseTimes;
import io.moestream.engine.backend.PhaseTimes.Phase;
import io.moestream.engine.backend.RoutingObserver;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.cuda.DeviceScratch.Buffer;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.LayerWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.model.RoutingConfig;
import io.moestream.engine.moe.Router;
import io.moestream.engine.moe.Routers;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUstream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forward pass on one GPU through JCuda's driver API, the same stages as cpu/CpuBackend:
 * embedding -> per layer (RMSNorm -> attention -> residual -> RMSNorm -> MoE or dense MLP -> residual)
 * -> final RMSNorm -> LM head for the tokens whose logits are wanted, copied back to the host.
 *
 * <p>Weights are uploaded once as BF16 and KV pages live on the device; activations stay on the device
 * from the embedding to the logits. All work of a step is queued on one stream; the host waits for it
 * once, for the logits: the MoE dispatch is built on the device ({@link MoeAlign}). An expert-selection
 * policy or a routing observer adds a wait per sparse layer (the scores come back to the host).
 *
 * <p>Families: qwen3_moe, qwen2_moe, mixtral, olmoe. DeepSeek (latent attention, sigmoid and
 * group-limited routing, FP8 weights) is refused with a message until its kernels exist.
 *
 * <p>Not yet run on a GPU: see docs/CUDA.md for the checks a GPU session must make.
 */
public final class CudaBackend implements Backend {
  private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);
  /** Steps the memory check sizes scratch for when the caller does not say (EngineOptions' default). */
  static final int DEFAULT_MAX_STEP_TOKENS = 512;

  private final ModelConfig config;
  private final PagedKvCache kvCache;
  private final CudaDevice device;
  private final CUstream stream = new CUstream();
  private final DeviceMemory memory = new DeviceMemory();
  private final KernelLauncher launcher;
  private final HostStaging staging;
  private final DeviceScratch scratch;
  private final DeviceGemm gemm;
  private final DeviceWeights weights;
  private final DeviceKvCache deviceCache;
  private final CudaAttention attention;
  private final CudaMoe moe;
  private final Router[] routers; // by layer; null on dense layers
  private final boolean syncPhases;
  private final PhaseTimes phaseTimes = new PhaseTimes();
  private volatile RoutingObserver routingObserver;
  /** The sticky CUDA error a step hit (the context is unusable until {@link #close} resets it), or null. */
  private volatile RuntimeException stickyFailure;
  private boolean closed;

  /**
   * Opens device {@code deviceIndex} and uploads the model.
   *
   * @param kvCache the host cache whose block bookkeeping the engine uses; its geometry sizes the device pages
   * @param syncPhases wait for the device after each phase so {@link #phaseTimes} are per phase (profiling;
   *     slower). Without it the whole step is counted under the LM head, where the host waits.
   */
  public CudaBackend(ModelWeights modelWeights, int deviceIndex, PagedKvCache kvCache, boolean syncPhases) {
    this(modelWeights, deviceIndex, kvCache, syncPhases, DEFAULT_MAX_STEP_TOKENS);
  }

  /**
   * @param maxStepTokens the most tokens one step runs (EngineOptions.maxBatchTokens): sizes the step scratch
   *     that the free-memory check before the upload counts ({@link DeviceMemoryPlan})
   */
  public CudaBackend(ModelWeights modelWeights, int deviceIndex, PagedKvCache kvCache, boolean syncPhases,
      int maxStepTokens) {
    this.config = modelWeights.config();
    checkSupported(config);
    this.kvCache = kvCache;
    this.syncPhases = syncPhases;
    this.device = CudaDevice.open(deviceIndex);
    try {
      requireFreeMemory(DeviceMemoryPlan.of(modelWeights, kvCache, maxStepTokens), modelWeights);
      cuStreamCreate(stream, 0);
      this.launcher = new KernelLauncher(stream);
      this.staging = new HostStaging(stream, 4L << 20);
      this.scratch = new DeviceScratch(memory);
      this.gemm = new DeviceGemm(launcher, memory);
      try (WeightUploader uploader = new WeightUploader(memory)) {
        this.weights = new DeviceWeights(modelWeights, memory, uploader);
      }
      this.deviceCache = new DeviceKvCache(kvCache, memory);
      this.attention = new CudaAttention(config, launcher, gemm, scratch, memory, device.multiprocessors());
      this.moe = new CudaMoe(config, launcher, gemm, scratch, staging);
      this.routers = new Router[config.numLayers()];
      for (int layer = 0; layer < routers.length; layer++) {
        if (modelWeights.layers()[layer].moe() != null) {
          routers[layer] = Routers.forLayer(config, modelWeights.layers()[layer].moe());
        }
      }
    } catch (RuntimeException | Error e) {
      List<ReleaseSteps.Step> steps = new ArrayList<>();
      steps.add(new ReleaseSteps.Step("device memory", memory::close));
      steps.add(new ReleaseSteps.Step("the stream", () -> cuStreamDestroy(stream)));
      if (CudaErrors.isSticky(e)) {
        steps.add(new ReleaseSteps.Step("the primary context (reset)", device::resetContext));
      }
      steps.add(new ReleaseSteps.Step("the primary context", device::close));
      ReleaseSteps.run(steps, e); // never throws over e: each failure is suppressed in it
      throw e;
    }
  }

  /** Fails before the upload, naming the model, the device and both numbers, when the plan exceeds the free memory. */
  private void requireFreeMemory(DeviceMemoryPlan plan, ModelWeights modelWeights) {
    long[] freeAndTotal = device.freeAndTotalMemory();
    String model = config.architecture().modelType() + " model (" + modelWeights.parameterCount() / 1_000_000
        + "M parameters, " + config.numLayers() + " layers, " + config.numExperts() + " experts)";
    String shortfall = plan.shortfall(freeAndTotal[0], freeAndTotal[1], model, device.describe());
    if (shortfall != null) {
      throw new IllegalStateException(shortfall);
    }
    LOG.info("{}: {} of {} free MiB planned for the model", device.describe(), plan.totalBytes() >> 20,
        freeAndTotal[0] >> 20);
  }

  /** Refuses, with the reason, what the kernels do not cover yet. */
  static void checkSupported(ModelConfig config) {
    String reason = unsupportedReason(config);
    if (reason != null) {
      throw new UnsupportedOperationException(reason + "; use --backend cpu");
    }
  }

  /** Why the CUDA kernels cannot run this model yet, or null when they can. Needs no GPU. */
  public static String unsupportedReason(ModelConfig config) {
    if (config.mla() != null) {
      return config.architecture() + ": multi-head latent attention has no CUDA kernels yet";
    }
    if (config.architecture() == io.moestream.engine.model.Architecture.GLM4_MOE) {
      return "glm4_moe: partial rotary embeddings (rotary dim " + config.rotaryDim() + " of head_dim "
          + config.headDim() + ") and sigmoid group-limited routing have no CUDA kernels yet";
    }
    if (config.architecture() == io.moestream.engine.model.Architecture.GPT_OSS) {
      return "gpt_oss: attention sinks, the fused clamped-SwiGLU experts with biases, the router bias and MXFP4 /"
          + " transposed expert weights have no CUDA kernels yet";
    }
    if (config.hasSlidingWindow()) {
      return "sliding-window attention has no CUDA kernel yet";
    }
    if (config.rotaryDim() != config.headDim()) {
      return "partial rotary embeddings (rotary dim " + config.rotaryDim() + " of head_dim " + config.headDim()
          + ") have no CUDA kernel yet";
    }
    RoutingConfig routing = config.routing();
    if (routing.scoring() != RoutingConfig.Scoring.SOFTMAX || routing.topkMethod() != RoutingConfig.TopkMethod.GREEDY
        || routing.routedScalingFactor() != 1.0) {
      return "routing " + routing + " has no CUDA kernel yet (softmax top-k only)";
    }
    if (config.fp8WeightBlock() != null) {
      return "FP8 weights have no CUDA kernels yet";
    }
    if (config.ropeScaling().type() == io.moestream.engine.model.RopeScaling.Type.YARN) {
      return "yarn rope scaling has no CUDA kernel yet";
    }
    if (config.headDim() > LaunchGeometry.MAX_HEAD_DIM || config.headDim() % 32 != 0) {
      return "head_dim " + config.headDim() + " is not a multiple of 32 up to " + LaunchGeometry.MAX_HEAD_DIM;
    }
    return null;
  }

  @Override
  public long deviceMemoryBytes() {
    return memory.bytes();
  }

  @Override
  public String name() {
    return device.describe() + ", " + (memory.bytes() >> 20) + " MiB on the device";
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public PagedKvCache kvCache() {
    return kvCache;
  }

  @Override
  public PhaseTimes phaseTimes() {
    return phaseTimes;
  }

  @Override
  public void setRoutingObserver(RoutingObserver observer) {
    this.routingObserver = observer;
  }

  /**
   * Runs the step; a sticky CUDA error marks this backend unusable (every later call in the context would
   * fail the same way) until {@link #close} resets the context. Other errors leave it usable.
   */
  @Override
  public StepOutput forward(StepBatch batch) {
    RuntimeException sticky = stickyFailure;
    if (sticky != null) {
      throw new IllegalStateException(device.describe() + " hit the sticky CUDA error "
          + CudaErrors.resultName(sticky) + " in an earlier step: close this backend (which resets the context)"
          + " and start a new one", sticky);
    }
    try {
      return step(batch);
    } catch (RuntimeException e) {
      if (CudaErrors.isSticky(e)) {
        stickyFailure = e;
        throw new IllegalStateException(device.describe() + ": sticky CUDA error " + CudaErrors.resultName(e)
            + " in a step; the context is unusable until this backend is closed, which resets it", e);
      }
      throw e;
    }
  }

  private StepOutput step(StepBatch batch) {
    device.makeCurrent(); // the engine may step from another thread than the one that loaded
    cuStreamSynchronize(stream); // idle after a completed step; drains what a failed step left queued
    staging.reset(); // no copy through the staging buffer is pending now
    int numTokens = batch.numTokens();
    int hidden = config.hiddenSize();
    for (int token : batch.tokenIds()) {
      if (token < 0 || token >= config.vocabSize()) {
        throw new IllegalArgumentException("token id " + token + " outside the vocabulary [0, " + config.vocabSize() + ")");
      }
    }
    if (numTokens == 0) { // a grid of 0 blocks is a launch error
      return new StepOutput(new float[0], config.vocabSize(), new int[config.numLayers()][0], new int[config.numLayers()]);
    }
    long clock = System.nanoTime();
    DeviceStep step = DeviceStep.upload(batch, kvCache.blockSize(), scratch, staging);
    DevicePointer residual = scratch.get(Buffer.RESIDUAL, (long) numTokens * hidden); // (numTokens, hiddenSize)
    DevicePointer normed = scratch.get(Buffer.NORMED, (long) numTokens * hidden);
    DevicePointer blockOut = scratch.get(Buffer.BLOCK_OUT, (long) numTokens * hidden);
    launcher.launch(CudaKernel.EMBEDDING_GATHER_BF16, numTokens, LaunchGeometry.ELEMENTWISE_THREADS,
        weights.embedTokens.first(), step.tokenIds(), numTokens, hidden, residual);
    int[][] expertsUsed = new int[config.numLayers()][numTokens]; // 0 on dense layers
    int[] distinctExperts = new int[config.numLayers()]; // filled from the device's summaries after the step
    boolean[] sparse = new boolean[config.numLayers()];
    RoutingObserver observer = routingObserver;

    for (int layer = 0; layer < config.numLayers(); layer++) {
      DeviceWeights.Layer lw = weights.layers[layer];
      rmsNorm(residual, lw.inputNorm(), numTokens, normed);
      clock = lap(Phase.EMBED_AND_NORMS, clock);
      attention.forward(lw.attention(), deviceCache.layer(layer), step, normed, blockOut);
      addInto(residual, blockOut, numTokens * hidden);
      clock = lap(Phase.ATTENTION, clock);
      rmsNorm(residual, lw.postNorm(), numTokens, normed);
      if (lw.moe() != null) {
        sparse[layer] = true;
        moe.forward(layer, lw.moe(), routers[layer], numTokens, batch.expertsPerToken()[layer],
            batch.minExpertsPerToken(), normed, blockOut, expertsUsed[layer], batch.selection(), observer);
        clock = lap(Phase.EXPERTS, clock);
      } else {
        DevicePointer h = scratch.get(Buffer.MLP_HIDDEN, (long) numTokens * lw.dense().intermediateSize());
        gemm.mlp(lw.dense(), normed, numTokens, h, blockOut);
        clock = lap(Phase.DENSE_MLP, clock);
      }
      addInto(residual, blockOut, numTokens * hidden);
    }

    int[] logitTokens = batch.logitTokens();
    int vocab = config.vocabSize();
    float[] logits = new float[logitTokens.length * vocab];
    if (logitTokens.length > 0) {
      int rows = logitTokens.length;
      DevicePointer logitRows = DeviceStep.put(scratch, staging, Buffer.LOGIT_ROWS, logitTokens);
      DevicePointer finalInput = scratch.get(Buffer.LOGIT_INPUT, (long) rows * hidden);
      launcher.launch(CudaKernel.GATHER_ROWS, rows, LaunchGeometry.ELEMENTWISE_THREADS, residual, logitRows, rows, hidden,
          finalInput);
      rmsNorm(finalInput, weights.finalNorm, rows, finalInput);
      DevicePointer deviceLogits = scratch.get(Buffer.LOGITS, (long) rows * vocab);
      gemm.linear(weights.lmHead, finalInput, rows, deviceLogits);
      staging.download(deviceLogits, logits);
    } else {
      cuStreamSynchronize(stream);
    }
    moe.checkSummaries(sparse, distinctExperts); // the stream is idle: a copy of a few ints, no wait
    phaseTimes.add(Phase.LM_HEAD, System.nanoTime() - clock);
    return new StepOutput(logits, vocab, expertsUsed, distinctExperts);
  }

  private long lap(Phase phase, long since) {
    if (!syncPhases) {
      return since; // asynchronous: host time here says nothing about the device
    }
    cuStreamSynchronize(stream);
    long now = System.nanoTime();
    phaseTimes.add(phase, now - since);
    return now;
  }

  private void rmsNorm(DevicePointer x, DevicePointer weight, int rows, DevicePointer out) {
    launcher.launch(CudaKernel.RMS_NORM_ROWS, rows, LaunchGeometry.ELEMENTWISE_THREADS, x, weight, config.rmsNormEps(),
        rows, config.hiddenSize(), out);
  }

  private void addInto(DevicePointer target, DevicePointer addend, int count) {
    launcher.launch(CudaKernel.ADD_ROWS, LaunchGeometry.blocksFor(count, LaunchGeometry.ELEMENTWISE_THREADS),
        LaunchGeometry.ELEMENTWISE_THREADS, target, addend, count);
  }

  /**
   * Releases everything best-effort. After a sticky error (in a step, or found by the final wait here) the
   * primary context is reset so the next backend on this device starts clean, and nothing is thrown over the
   * error the step already threw: release failures are logged and suppressed in it. A normal close throws
   * its first failure.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    RuntimeException sticky = stickyFailure;
    List<ReleaseSteps.Step> steps = new ArrayList<>();
    steps.add(new ReleaseSteps.Step("the context (make current)", device::makeCurrent));
    if (sticky == null) {
      steps.add(new ReleaseSteps.Step("the stream's queued work", () -> cuStreamSynchronize(stream)));
    }
    steps.add(new ReleaseSteps.Step("pinned staging", staging::close));
    steps.add(new ReleaseSteps.Step("kernel modules", launcher::close));
    steps.add(new ReleaseSteps.Step("device memory", memory::close));
    steps.add(new ReleaseSteps.Step("the stream", () -> cuStreamDestroy(stream)));
    List<Throwable> failures = ReleaseSteps.run(steps, sticky);
    if (sticky == null) {
      sticky = (RuntimeException) failures.stream().filter(CudaErrors::isSticky).findFirst().orElse(null);
    }
    List<ReleaseSteps.Step> last = new ArrayList<>();
    if (sticky != null) {
      last.add(new ReleaseSteps.Step("the primary context (reset after " + CudaErrors.resultName(sticky) + ")",
          device::resetContext));
    }
    last.add(new ReleaseSteps.Step("the primary context", device::close));
    failures.addAll(ReleaseSteps.run(last, stickyFailure));
    if (stickyFailure != null) {
      failures.forEach(f -> LOG.warn("{}: after a sticky error: {}", device.describe(), f.getMessage()));
      return; // the step already threw the sticky error; it carries these failures as suppressed
    }
    if (!failures.isEmpty()) {
      RuntimeException first = (RuntimeException) failures.get(0);
      failures.stream().skip(1).forEach(first::addSuppressed);
      throw first;
    }
  }
}
