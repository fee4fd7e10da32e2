package io.moestream.engine.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Runs the tasks of one parallel region on a fixed set of threads, the calling thread included.
 *
 * <p>A decode step has a few dozen parallel regions of tens of microseconds each, so hand-off latency
 * matters more than fairness: idle workers spin briefly before parking, and tasks are claimed from a
 * shared counter so uneven tasks (experts with different token counts) balance themselves. Each region
 * is a fresh {@link Region} object, so a worker that wakes late can never take a task of a later one.
 */
public final class WorkerPool implements AutoCloseable {
  private static final long SPIN_NANOS = 50_000;
  /** Ranges per thread in {@link #runRanges}: see there. */
  static final int RANGES_PER_THREAD = 4;

  private static final class Region {
    final IntConsumer task;
    final int numTasks;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger unfinished;
    volatile Throwable failure;

    Region(IntConsumer task, int numTasks) {
      this.task = task;
      this.numTasks = numTasks;
      this.unfinished = new AtomicInteger(numTasks);
    }

    void work() {
      int i;
      while ((i = next.getAndIncrement()) < numTasks) {
        try {
          task.accept(i);
        } catch (Throwable t) {
          failure = t;
        } finally {
          unfinished.decrementAndGet();
        }
      }
    }
  }

  private final Thread[] workers;
  private volatile Region current;
  private volatile boolean closed;

  /** A pool of {@code threads} threads in all: the caller plus {@code threads - 1} workers. */
  public WorkerPool(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, found " + threads);
    }
    workers = new Thread[threads - 1];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Thread(this::workerLoop, "moestream-cpu-" + (i + 1));
      workers[i].setDaemon(true);
      workers[i].start();
    }
  }

  public int threads() {
    return workers.length + 1;
  }

  /** Runs {@code task.accept(i)} for i in [0, numTasks) and returns when all are done. */
  public void run(int numTasks, IntConsumer task) {
    if (numTasks <= 0) {
      return;
    }
    if (workers.length == 0 || numTasks == 1) {
      for (int i = 0; i < numTasks; i++) {
        task.accept(i);
      }
      return;
    }
    Region region = new Region(task, numTasks);
    current = region;
    for (Thread worker : workers) {
      LockSupport.unpark(worker);
    }
    region.work();
    while (region.unfinished.get() > 0) {
      Thread.onSpinWait();
    }
    Throwable failure = region.failure;
    if (failure instanceof RuntimeException e) {
      throw e;
    } else if (failure instanceof Error e) {
      throw e;
    } else if (failure != null) {
      throw new IllegalStateException(failure);
    }
  }

  /**
   * Splits [0, total) into contiguous ranges aligned to {@code align}, {@link #RANGES_PER_THREAD} per
   * thread, handed out dynamically. One range per thread would be optimal on an idle machine, but a
   * thread the OS deschedules (a Kafka or Flink thread sharing the cores) then holds half the region
   * while the other spins; with several ranges per thread the others take over its share.
   */
  public void runRanges(int total, int align, RangeTask task) {
    int parts = Math.min(threads() == 1 ? 1 : threads() * RANGES_PER_THREAD, Math.max(1, total / Math.max(align, 1)));
    run(parts, part -> {
      int start = alignDown((int) ((long) total * part / parts), align);
      int end = part == parts - 1 ? total : alignDown((int) ((long) total * (part + 1) / parts), align);
      if (start < end) {
        task.run(start, end);
      }
    });
  }

  private static int alignDown(int value, int align) {
    return value / align * align;
  }

  /** Work on a range [start, end). */
  @FunctionalInterface
  public interface RangeTask {
    void run(int start, int end);
  }

  private void workerLoop() {
    Region seen = null;
    while (!closed) {
      Region region = current;
      if (region != null && region != seen) {
        seen = region;
        region.work();
        continue;
      }
      long spinUntil = System.nanoTime() + SPIN_NANOS;
      while (current == seen && !closed && System.nanoTime() < spinUntil) {
        Thread.onSpinWait();
      }
      if (current == seen && !closed) {
        LockSupport.parkNanos(this, 1_000_000);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread worker : workers) {
      LockSupport.unpark(worker);
    }
  }
}
