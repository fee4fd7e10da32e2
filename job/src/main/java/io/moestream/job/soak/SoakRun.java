package io.moestream.job.soak;

import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.job.ramp.RampRun;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.schemas.ChatMessage;
import io.moestream.schemas.InferenceRequest;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A soak of the real streaming job (issue 13): its capacity is measured (or given), then requests
 * arrive open loop at a multiple of it for a long time with bad records mixed in, while the heap,
 * checkpoints and restarts are sampled; at the end every request must have been answered (a
 * generation or a dead letter) exactly once and every bad record dead-lettered exactly once.
 *
 * <p>Requests carry a deadline: under overload Kafka holds the backlog, and each request read after
 * its deadline is answered at once with finish reason ERROR, so the backlog drains at the speed the
 * job reads, not the speed it generates.
 */
public final class SoakRun {
  /**
   * @param rate requests per second during the soak; 0: {@code overload} times the measured capacity
   * @param capacitySeconds how long the capacity is measured (with the in-flight window kept full)
   */
  public record Settings(double rate, double capacitySeconds, double durationSeconds, double overload,
      Duration deadline, double badPerSecond, int maxNewTokens, Duration drain, long sampleMs,
      boolean gcBeforeSample) {}

  /** Where a record went: its input partition and offset, as the producer's acknowledgement said. */
  public record Sent(String kind, int partition, long offset) {
    String source() {
      return SoakCollector.source(partition, offset);
    }
  }

  /**
   * What the soak saw. Times in samples are seconds from the start of the capacity phase;
   * {@code soakFromS}-{@code soakToS} is the overload phase.
   */
  public record Result(Settings settings, JobConfig config, double capacity, double rate, Map<String, Sent> good,
      List<Sent> bad, long sendFailures, Map<String, Integer> generationsById, Map<String, Integer> deadLettersBySource,
      Map<String, Long> outcomes, long unreadable, List<SoakSampler.Sample> samples, Map<Long, Long> checkpoints,
      long startMs, double soakFromS, double soakToS, double drainedAtS, boolean endRead) {}

  private static final String WARM_UP = "soak-warm-up";

  private final StreamExecutionEnvironment env;
  private final JobConfig config;
  private final Settings settings;
  private final PrintStream log;
  private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
  private final PoisonRecords poison = new PoisonRecords();
  private final Map<String, Sent> good = new ConcurrentHashMap<>();
  private final List<Sent> bad = new ArrayList<>();
  private final AtomicLong sendFailures = new AtomicLong();
  private final AtomicReference<Exception> firstSendFailure = new AtomicReference<>();
  private final AtomicLong produced = new AtomicLong();
  private int nextRequest;

  private SoakRun(StreamExecutionEnvironment env, JobConfig config, Settings settings, PrintStream log) {
    this.env = env;
    this.config = config;
    this.settings = settings;
    this.log = log;
  }

  /** Runs the soak on {@code env} under {@code config} (its topics must exist; the REST API at {@code restBase}). */
  public static Result run(StreamExecutionEnvironment env, JobConfig config, Settings settings, String restBase,
      PrintStream log) throws Exception {
    return new SoakRun(env, config, settings, log).run(restBase);
  }

  /** Request {@code n}: greedy or seeded sampling, a prompt or chat messages, due {@code deadline} after now. */
  InferenceRequest request(int n) {
    InferenceRequest r = RampRun.request(n, settings.maxNewTokens());
    InferenceRequest.Builder b = InferenceRequest.newBuilder(r).setRequestId("soak-" + n)
        .setDeadlineEpochMs(System.currentTimeMillis() + settings.deadline().toMillis());
    if (n % 3 == 1) { // a third are chat requests, rendered by the model's template
      b.setPrompt(null).setMessages(List.of(new ChatMessage("system", "Answer briefly."),
          new ChatMessage("user", r.getPrompt())));
    }
    return b.build();
  }

  private Result run(String restBase) throws Exception {
    InferencePipeline.define(env, config);
    JobClient job = env.executeAsync(config.flink().jobName() + " soak");
    JobConfig.Kafka kafka = config.kafka();
    SoakSampler sampler = null;
    // the 2 MiB bad record needs more than Kafka's default max.request.size (1 MiB); the broker takes 4 MiB
    try (KafkaProducer<byte[], byte[]> producer = TopicClients.producer(kafka.bootstrapServers(), 4 << 20,
             kafka.properties());
         SoakCollector collector = new SoakCollector(kafka, kafka.inputTopic(), kafka.outputTopic(),
             kafka.deadLetterTopic())) {
      InferenceRequest warmUp = InferenceRequest.newBuilder(request(0)).setRequestId(WARM_UP)
          .setDeadlineEpochMs(null).build();
      sendGood(producer, warmUp);
      awaitWarmUp(collector, job);
      long startMs = System.currentTimeMillis();
      sampler = new SoakSampler(restBase, job.getJobID().toString(), startMs, settings.sampleMs(),
          settings.gcBeforeSample(), produced::get, collector.records::get);
      double capacity = settings.rate() > 0 ? Double.NaN : measureCapacity(producer, collector, job, sampler);
      double rate = settings.rate() > 0 ? settings.rate() : settings.overload() * capacity;
      if (!(rate > 0)) {
        throw new IllegalStateException("the measured capacity is " + capacity + " requests/s: nothing to overload");
      }
      double soakFromS = (System.currentTimeMillis() - startMs) / 1000.0;
      log.printf("soak: %.2f requests/s for %.0f s, %.2f bad records/s, deadline %d s%n", rate,
          settings.durationSeconds(), settings.badPerSecond(), settings.deadline().toSeconds());
      overload(producer, collector, job, rate, startMs);
      double soakToS = (System.currentTimeMillis() - startMs) / 1000.0;
      double drainedAtS = drain(collector, job, startMs);
      // a replay after a late restart would show as duplicates: give the job two more checkpoints to write them
      Thread.sleep(2 * config.flink().checkpointIntervalMs());
      boolean endRead = collector.awaitEnd(Duration.ofSeconds(60));
      sampler.close();
      List<SoakSampler.Sample> samples = sampler.samples();
      if (samples.isEmpty() && sampler.lastFailure() != null) {
        log.println("soak: no sample could be read: " + sampler.lastFailure());
      }
      Map<String, Long> outcomes = new java.util.LinkedHashMap<>();
      collector.outcomes.forEach((k, v) -> outcomes.put(k, v.get()));
      return new Result(settings, config, capacity, rate, Map.copyOf(good), List.copyOf(bad), sendFailures.get(),
          Map.copyOf(collector.generationsById), Map.copyOf(collector.deadLettersBySource), outcomes,
          collector.unreadable.get(), samples, sampler.completedCheckpoints(), startMs, soakFromS, soakToS,
          drainedAtS, endRead);
    } finally {
      if (sampler != null) {
        sampler.close();
      }
      JobClients.cancelAndAwait(job, Duration.ofMinutes(1));
    }
  }

  /**
   * Keeps twice the job's in-flight window outstanding (sent, not yet answered), so the window stays
   * full, and measures over the last two thirds (the first third fills it). Requests in a full window
   * start and end together, so answers arrive in bursts too coarse for a short phase: capacity is the
   * operator's generated tokens per second over the mean completion tokens of an answer.
   */
  private double measureCapacity(KafkaProducer<byte[], byte[]> producer, SoakCollector collector, JobClient job,
      SoakSampler sampler) throws Exception {
    long window = 2L * config.batching().maxInFlight() * config.flink().parallelism();
    long start = System.currentTimeMillis();
    long end = start + Math.round(settings.capacitySeconds() * 1000);
    long from = start + (end - start) / 3;
    long tokensAtFrom = -1;
    while (System.currentTimeMillis() < end) {
      checkRunning(job);
      long answered = collector.generationsById.size() - 1; // less the warm-up
      if (tokensAtFrom < 0 && System.currentTimeMillis() >= from) {
        tokensAtFrom = sampler.operatorNow().generatedTokens();
        from = System.currentTimeMillis();
      }
      while (nextRequest - answered < window) { // counted here: acknowledgements come later
        sendGood(producer, request(++nextRequest));
      }
      producer.flush();
      Thread.sleep(100);
    }
    long tokens = sampler.operatorNow().generatedTokens() - tokensAtFrom;
    double seconds = (System.currentTimeMillis() - from) / 1000.0;
    long answers = collector.generationsById.size();
    // the answers so far (warm-up included); before any, every request is taken to run to max_new_tokens
    double tokensPerAnswer = answers > 1 ? Math.max(1.0, (double) collector.completionTokens.get() / answers)
        : settings.maxNewTokens();
    double capacity = tokens / seconds / tokensPerAnswer;
    log.printf("soak: capacity %.2f requests/s (%d tokens generated in %.1f s with %d outstanding, %.1f tokens per"
        + " answer)%n", capacity, tokens, seconds, window, tokensPerAnswer);
    return capacity;
  }

  /** Sends good requests at {@code rate} and bad records at the bad rate, open loop, for the duration. */
  private void overload(KafkaProducer<byte[], byte[]> producer, SoakCollector collector, JobClient job, double rate,
      long startMs) throws Exception {
    long from = System.currentTimeMillis();
    long end = from + Math.round(settings.durationSeconds() * 1000);
    long goods = 0;
    long bads = 0;
    long lastLog = from;
    while (true) {
      long nextGood = from + Math.round(goods * 1000 / rate);
      long nextBad = settings.badPerSecond() > 0 ? from + Math.round(bads * 1000 / settings.badPerSecond())
          : Long.MAX_VALUE;
      long due = Math.min(nextGood, nextBad);
      if (due >= end) {
        break;
      }
      long wait = due - System.currentTimeMillis();
      if (wait > 0) {
        Thread.sleep(wait);
      }
      if (nextGood <= nextBad) {
        sendGood(producer, request(++nextRequest));
        goods++;
      } else {
        sendBad(producer, poison.next(bads));
        bads++;
      }
      long now = System.currentTimeMillis();
      if (now - lastLog >= 10_000) {
        lastLog = now;
        checkRunning(job);
        collector.check();
        log.printf("soak: t=%.0f s, sent %d requests and %d bad records, read back %d%n", (now - startMs) / 1000.0,
            good.size(), bad.size(), collector.records.get());
      }
    }
    producer.flush();
  }

  /** Waits until every record sent is accounted for; returns when (seconds from the start), NaN if never. */
  private double drain(SoakCollector collector, JobClient job, long startMs) throws Exception {
    long deadline = System.currentTimeMillis() + settings.drain().toMillis();
    long lastLog = 0;
    while (System.currentTimeMillis() < deadline) {
      checkRunning(job);
      collector.check();
      long open = unaccounted(collector);
      if (open == 0) {
        return (System.currentTimeMillis() - startMs) / 1000.0;
      }
      if (System.currentTimeMillis() - lastLog >= 10_000) {
        lastLog = System.currentTimeMillis();
        log.printf("soak: draining, %d records not yet accounted for%n", open);
      }
      Thread.sleep(500);
    }
    log.printf("soak: %d records still unaccounted for after the %d s drain%n", unaccounted(collector),
        settings.drain().toSeconds());
    return Double.NaN;
  }

  private long unaccounted(SoakCollector collector) {
    long open = 0;
    for (Map.Entry<String, Sent> e : good.entrySet()) {
      if (!collector.generationsById.containsKey(e.getKey())
          && !collector.deadLettersBySource.containsKey(e.getValue().source())) {
        open++;
      }
    }
    synchronized (bad) {
      for (Sent s : bad) {
        if (!collector.deadLettersBySource.containsKey(s.source())) {
          open++;
        }
      }
    }
    return open;
  }

  private void sendGood(KafkaProducer<byte[], byte[]> producer, InferenceRequest r) {
    String id = r.getRequestId();
    producer.send(TopicClients.avroRecord(config.kafka().inputTopic(), r, codec), (metadata, e) -> {
      if (e != null) {
        failed(e);
      } else {
        good.put(id, new Sent("request", metadata.partition(), metadata.offset()));
        produced.incrementAndGet();
      }
    });
  }

  private void sendBad(KafkaProducer<byte[], byte[]> producer, PoisonRecords.Poison p) {
    byte[] key = ("bad-" + p.kind()).getBytes(StandardCharsets.UTF_8);
    producer.send(new ProducerRecord<>(config.kafka().inputTopic(), key, p.value()), (metadata, e) -> {
      if (e != null) {
        failed(e);
      } else {
        synchronized (bad) {
          bad.add(new Sent(p.kind(), metadata.partition(), metadata.offset()));
        }
        produced.incrementAndGet();
      }
    });
  }

  private void failed(Exception e) {
    sendFailures.incrementAndGet();
    if (firstSendFailure.compareAndSet(null, e)) {
      log.println("soak: a send failed (counted; the verdict fails): " + e);
    }
  }

  private void awaitWarmUp(SoakCollector collector, JobClient job) throws Exception {
    long deadline = System.currentTimeMillis() + Duration.ofMinutes(5).toMillis();
    while (!collector.generationsById.containsKey(WARM_UP)) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("the warm-up request was not answered within 5 minutes");
      }
      checkRunning(job);
      collector.check();
      Thread.sleep(100);
    }
    log.println("soak: warm-up answered");
  }

  private static void checkRunning(JobClient job) throws Exception {
    JobStatus status = job.getJobStatus().get();
    if (status.isGloballyTerminalState()) {
      throw new IllegalStateException("the job ended (" + status + ") during the soak");
    }
  }
}
