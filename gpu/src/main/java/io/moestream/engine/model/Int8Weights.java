package io.moestream.engine.model;

import io.moestream.engine.format.DType;
import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.kernel.Q8Arena;
import io.moestream.engine.kernel.Q8Blocks;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --weights int8}: a model's 16- and 32-bit projections quantized to Q8_0 ({@link Q8Blocks}) at load,
 * in direct memory, in place of the mapped originals.
 *
 * <p>Which matrices: attention q/k/v/o (and latent attention's q/q_a/q_b/kv_a/kv_b/o), routed experts'
 * gate/up/down (gpt-oss's BF16 fused gate_up too), shared experts, dense MLPs and the LM head. Kept as
 * stored: routers and Qwen2's shared-expert gate (one small matrix each whose logits choose experts, where
 * a rounding error changes a decision rather than a value), norms and biases (float32 already), the
 * embedding (read one row per token, never streamed; its mapped pages stay cold), and weights the checkpoint
 * already quantizes (FP8 E4M3, MXFP4). A tied LM head gets its own int8 copy; the embedding stays mapped.
 * {@link io.moestream.engine.plan.WeightBytes#of} applies the same choice to the headers.
 *
 * <p>Work is split by rows over {@code threads} threads (a matrix is read once, sequentially per chunk);
 * progress is logged every 10% when the model has over {@value #LOGGED_PROGRESS_ELEMENTS} values to quantize.
 */
public final class Int8Weights {
  private static final Logger LOG = LoggerFactory.getLogger(Int8Weights.class);
  /** Values per unit of work: large enough to amortize scheduling, small enough to balance threads. */
  private static final long CHUNK_ELEMENTS = 1L << 20;
  private static final long LOGGED_PROGRESS_ELEMENTS = 100_000_000L;

  /**
   * @param weights the model with its quantized matrices
   * @param matrices how many were quantized
   * @param bytes what their codes and scales take in direct memory
   * @param seconds the wall time of the quantization
   */
  public record Result(ModelWeights weights, int matrices, long bytes, double seconds) {}

  /** A matrix as loaded and the Q8_0 matrix it is quantized into. */
  private record Job(Matrix source, Matrix target) {}

  /**
   * Matrices are cut from blocks of up to this many bytes ({@link Q8Arena}: 2 MiB pages where the native library
   * loads); a larger matrix gets a block of its own.
   */
  private static final long BLOCK_BYTES = 1L << 30;

  private final List<Job> jobs = new ArrayList<>();
  /** First pass of {@link #replace}: the block sizes its matrices need, in the order the second pass cuts them. */
  private final List<Long> blockSizes = new ArrayList<>();
  private boolean sizing;
  private int nextBlock;
  private Q8Arena block;
  private boolean hugePages = true;

  private Int8Weights() {}

  /** Whether a matrix of {@code dtype} is quantized when it is one of the projections listed above. */
  public static boolean quantizes(DType dtype) {
    return dtype == DType.BF16 || dtype == DType.F16 || dtype == DType.F32;
  }

  /** {@code weights} with every projection quantized, on {@code threads} threads. */
  public static Result quantize(ModelWeights weights, int threads) {
    long start = System.nanoTime();
    Int8Weights plan = new Int8Weights();
    plan.sizing = true;
    plan.replace(weights); // sizes the blocks only
    plan.sizing = false;
    ModelWeights quantized = plan.replace(weights);
    long bytes = plan.run(threads);
    double seconds = (System.nanoTime() - start) / 1e9;
    LOG.info("weights int8: quantized {} matrices ({} values) to Q8_0 in {} s on {} threads; {} MiB in direct memory"
        + " ({})", plan.jobs.size(), plan.elements(), String.format(java.util.Locale.ROOT, "%.2f", seconds), threads,
        bytes >> 20, plan.hugePages ? "2 MiB pages advised" : "the native library is not loaded: pages as the JVM gets"
        + " them");
    return new Result(quantized, plan.jobs.size(), bytes, seconds);
  }

  /** The same structure with each projection replaced by an allocated, not yet filled, Q8_0 matrix. */
  private ModelWeights replace(ModelWeights w) {
    LayerWeights[] layers = new LayerWeights[w.layers().length];
    for (int i = 0; i < layers.length; i++) {
      LayerWeights l = w.layers()[i];
      AttentionWeights a = l.attention();
      AttentionWeights attention = a == null ? null : new AttentionWeights(q(a.qProj()), q(a.kProj()), q(a.vProj()),
          q(a.oProj()), a.qBias(), a.kBias(), a.vBias(), a.qNorm(), a.kNorm(), a.oBias(), a.sinks());
      MlaWeights m = l.latentAttention();
      MlaWeights latent = m == null ? null : new MlaWeights(q(m.qProj()), q(m.qAProj()), m.qANorm(), q(m.qBProj()),
          q(m.kvAProj()), m.kvANorm(), q(m.kvBProj()), q(m.oProj()));
      MoeWeights moe = l.moe();
      if (moe != null) {
        ExpertWeights[] experts = new ExpertWeights[moe.experts().length];
        for (int e = 0; e < experts.length; e++) {
          experts[e] = q(moe.experts()[e]); // pruned experts stay null
        }
        moe = new MoeWeights(moe.router(), experts, q(moe.sharedExpert()), moe.sharedExpertGate(),
            moe.routerScoreCorrectionBias(), moe.routerBias());
      }
      layers[i] = new LayerWeights(l.inputNorm(), attention, l.postAttentionNorm(), moe, q(l.denseMlp()), latent);
    }
    return new ModelWeights(w.config(), w.embedTokens(), layers, w.finalNorm(), q(w.lmHead()));
  }

  private ExpertWeights q(ExpertWeights e) {
    return e == null ? null : new ExpertWeights(q(e.gateProj()), q(e.upProj()), q(e.downProj()), q(e.gateUpProj()),
        e.gateUpBias(), e.downBias());
  }

  private Matrix q(Matrix source) {
    if (source == null || !quantizes(source.dtype())) {
      return source;
    }
    long need = Q8Blocks.blockBytes(source.rows(), source.cols());
    if (sizing) {
      Q8Blocks.checkSize(source.name(), source.rows(), source.cols());
      int last = blockSizes.size() - 1;
      if (last >= 0 && blockSizes.get(last) + need <= BLOCK_BYTES) {
        blockSizes.set(last, blockSizes.get(last) + need);
      } else {
        blockSizes.add(need);
      }
      return source;
    }
    if (block == null || block.remaining() < need) { // the first pass's packing, block by block
      block = Q8Arena.reserve(blockSizes.get(nextBlock++));
      hugePages &= block.hugePages();
    }
    Matrix target = block.allocate(source.name(), source.rows(), source.cols());
    jobs.add(new Job(source, target));
    return target;
  }

  private long elements() {
    return jobs.stream().mapToLong(j -> (long) j.source().rows() * j.source().cols()).sum();
  }

  /** Fills every target from its source, chunk by chunk on a pool of {@code threads}; returns their bytes. */
  private long run(int threads) {
    long total = elements();
    AtomicLong done = new AtomicLong();
    AtomicLong loggedTenths = new AtomicLong();
    long startNanos = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(threads, runnable -> {
      Thread thread = new Thread(runnable, "int8-quantizer");
      thread.setDaemon(true);
      return thread;
    });
    try {
      List<Future<?>> chunks = new ArrayList<>();
      for (Job job : jobs) {
        Matrix source = job.source();
        int rowsPerChunk = (int) Math.max(1, CHUNK_ELEMENTS / source.cols());
        for (int r = 0; r < source.rows(); r += rowsPerChunk) {
          int rowStart = r;
          int rowEnd = Math.min(source.rows(), r + rowsPerChunk);
          chunks.add(pool.submit(() -> {
            Q8Blocks.quantizeRows(source, job.target(), rowStart, rowEnd);
            long now = done.addAndGet((long) (rowEnd - rowStart) * source.cols());
            logProgress(now, total, loggedTenths, startNanos);
          }));
        }
      }
      for (Future<?> chunk : chunks) {
        chunk.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while quantizing weights to int8", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime; // names the matrix and the value that could not be quantized
      }
      throw new IllegalStateException("quantizing weights to int8 failed", e.getCause());
    } finally {
      pool.shutdownNow();
    }
    return jobs.stream().mapToLong(j -> j.target().ownedBytes()).sum();
  }

  private static void logProgress(long done, long total, AtomicLong loggedTenths, long startNanos) {
    if (total < LOGGED_PROGRESS_ELEMENTS) {
      return;
    }
    long tenths = done * 10 / total;
    long previous = loggedTenths.get();
    if (tenths > previous && loggedTenths.compareAndSet(previous, tenths)) {
      LOG.info("weights int8: {}% quantized ({} of {} values, {} s)", tenths * 10, done, total,
          String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - startNanos) / 1e9));
    }
  }
}
