package io.moestream.operators.inference;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.FinishReason;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.policy.ExpertUsage;
import io.moestream.engine.policy.PolicyDriver;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.operators.metrics.ConsumerLag;
import io.moestream.operators.metrics.ExpertMetrics;
import io.moestream.operators.metrics.InferenceMetrics;
import io.moestream.operators.metrics.LoadSignals;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.offsets.CheckpointedOffsets;
import io.moestream.operators.records.InFlightRequest;
import io.moestream.operators.records.RequestBatch;
import io.moestream.operators.records.TokenizedRequest;
import io.moestream.schemas.Generation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The stateful MoE operator: one engine per subtask, loaded once in {@link #open()}, fed by
 * micro-batches and run with continuous batching.
 *
 * <p>Threading: everything runs on the task thread. Each engine step is one mailbox letter of the
 * lowest priority that enqueues the next while the engine has work, so input records, timers and
 * checkpoint barriers are handled between steps, and Flink's own waits on higher-priority mail
 * (operators finishing when a job stops with a savepoint) do not run generations to their end: the
 * savepoint holds them mid-generation.
 *
 * <p>Bounded memory: at most {@code maxInFlight} requests are accepted and unanswered. When the cap
 * is reached {@link #processElement} runs engine steps itself until a request finishes; meanwhile
 * the task reads no input, so backpressure travels up to the Kafka source, and a checkpoint barrier
 * behind that record waits for the first generation to finish (the remaining steps of the one closest
 * to its end, at most max_new_tokens), never for all of them. Below the cap it waits at most one step.
 *
 * <p>Experts: the configured policy ({@link ExpertControl}) runs through a {@link PolicyDriver}; before
 * every step the load (waiting, running, in-flight fill, backpressured share of the last second,
 * consumer lag, time per output token against a target) goes to its controller, whose level caps the
 * experts per token of every running request from that step on. Requests' floors and HIGH priority
 * are honoured per token inside the batch by the engine.
 *
 * <p>State: every accepted, unanswered request with the tokens generated so far is written at each
 * checkpoint ({@link #IN_FLIGHT_STATE}) and resubmitted in {@link #open()} after a restore; the
 * engine recomputes the known tokens and continues with the same random draws (they depend only on
 * the seed and the token index). At an unchanged policy level (always, under {@code full} or a fixed
 * policy) the generation is the one the first attempt would have produced; under {@code adaptive} the
 * continuation follows the level in force after the restore. A request restored more often than
 * {@link RecoverySettings#maxAttemptsPerRequest()} allows is dead-lettered instead (it may be what
 * brings the TaskManager down), and a failure while handling one request answers that request with
 * an error instead of failing the task.
 *
 * <p>Offsets: once a checkpoint completes, the oldest offset per input partition that this subtask
 * had not answered at it is committed ({@link CheckpointedOffsets}), so a job submitted again without
 * a savepoint reads every unanswered request again.
 */
public final class MoeInferenceOperator extends AbstractStreamOperator<Generation>
    implements OneInputStreamOperator<RequestBatch, Generation>, BoundedOneInput {
  private static final long serialVersionUID = 1L;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MoeInferenceOperator.class);

  /** Accepted, unanswered requests with their tokens so far, at the checkpoint. */
  public static final String IN_FLIGHT_STATE = "moe-in-flight-requests";

  /** How often the load reaches the controller while no step runs: an idle job climbs back to full quality. */
  static final long CONTROLLER_TICK_MS = 250;

  /** {@link io.moestream.schemas.Priority#HIGH}: served at the model's full experts per token. */
  static final int HIGH_PRIORITY = io.moestream.schemas.Priority.HIGH.ordinal();

  private final InferenceSettings settings;
  private final ExpertControl expertControl;
  private final ConsumerLag.Factory consumerLagFactory;
  private final RecoverySettings recovery;
  private final transient MailboxExecutor mailbox;
  /** Where step letters go: the lowest priority, so only the task's main loop runs them. */
  private final transient MailboxExecutor stepLetters;

  private transient CheckpointedOffsets offsets;

  private transient ConsumerLag consumerLag;

  private transient LoadedModel model;
  private transient Engine engine;
  private transient Tokenizer tokenizer;
  private transient String modelName;
  private transient ListState<InFlightRequest> inFlightState;
  private transient List<InFlightRequest> restored;
  /** By engine id, in acceptance order. */
  private transient Map<String, ActiveGeneration> active;
  private transient boolean stepScheduled;
  private transient LoadSignals load;
  private transient PolicyDriver policy;
  private transient ExpertUsage expertUsage;
  private transient ExpertMetrics expertMetrics;
  private transient InferenceMetrics metrics;
  /** Recent time per step (= per output token of a running sequence), ms; for the latency signal. */
  private transient double stepMsAverage;
  /** Input records processed since the last step letter ran. */
  private transient int recordsSinceLetter;
  private transient long lastStepEndNanos;

  MoeInferenceOperator(StreamOperatorParameters<Generation> parameters, InferenceSettings settings,
      ExpertControl expertControl, ConsumerLag.Factory consumerLagFactory, RecoverySettings recovery) {
    super(parameters);
    this.settings = settings;
    this.expertControl = expertControl;
    this.consumerLagFactory = consumerLagFactory;
    this.recovery = recovery;
    this.mailbox = parameters.getMailboxExecutor();
    this.stepLetters = parameters.getContainingTask().getMailboxExecutorFactory()
        .createExecutor(org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox.MIN_PRIORITY);
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    inFlightState = context.getOperatorStateStore().getListState(
        new ListStateDescriptor<>(IN_FLIGHT_STATE, InFlightRequest.class));
    restored = new ArrayList<>();
    if (context.isRestored()) {
      for (InFlightRequest state : inFlightState.get()) {
        restored.add(InFlightStates.upgrade(state));
      }
    }
  }

  @Override
  public void open() throws Exception {
    super.open();
    Path dir = Path.of(settings.modelDir());
    int deviceIndex = GpuAssignment.deviceIndex(
        getRuntimeContext().getExternalResourceInfos(GpuAssignment.RESOURCE_NAME),
        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    model = expertControl.load(dir, settings.engineOptions(deviceIndex));
    engine = model.engine();
    tokenizer = Tokenizer.isPresent(dir) ? Tokenizer.load(dir) : null;
    modelName = dir.getFileName().toString();
    active = new LinkedHashMap<>();
    load = new LoadSignals(settings.maxInFlight());
    load.kvTotalBlocks(engine.kvCache().numBlocks());
    load.register(getMetricGroup());
    if (consumerLagFactory != null) {
      consumerLag = consumerLagFactory.open();
      load.consumerLagFrom(consumerLag);
    }
    policy = new PolicyDriver(engine, expertControl.parsedPolicy(), expertControl.controller());
    expertUsage = new ExpertUsage(model.config());
    model.backend().setRoutingObserver(expertUsage);
    expertMetrics = new ExpertMetrics(getMetricGroup(), model.config(), expertUsage, policy,
        expertControl.expertsKept(model.config().numExperts()));
    boolean cuda = model.backend().deviceMemoryBytes() >= 0;
    metrics = new InferenceMetrics(getMetricGroup(), cuda, InferenceMetrics.weightBytes(dir), settings.kvCacheBytes(),
        model.backend()::deviceMemoryBytes);
    offsets = new CheckpointedOffsets(recovery.offsetCommitter() == null ? null : recovery.offsetCommitter().open());
    for (InFlightRequest state : restored) {
      offsets.observe(state.request);
      state.restores++;
      if (state.restores >= recovery.maxAttemptsPerRequest()) {
        giveUp(state);
        continue;
      }
      submit(state);
      metrics.replayed();
    }
    restored = null;
    scheduleStep();
    scheduleControllerTick();
  }

  private void scheduleControllerTick() {
    var time = getProcessingTimeService();
    time.registerTimer(time.getCurrentProcessingTime() + CONTROLLER_TICK_MS, timestamp -> {
      if (!engine.hasWork()) {
        load.update(engine.waitingCount(), engine.runningCount(), active.size(), engine.kvCache().freeBlocks());
        stepMsAverage = 0; // no step runs: no token is late
        updateLevel(System.nanoTime());
        expertMetrics.roll(System.nanoTime());
      }
      scheduleControllerTick();
    });
  }

  /** How long after a step arriving records may hold back the next one: a quarter of a step, 1 to 50 ms. */
  private long intakeBudgetNanos() {
    return (long) (Math.max(1, Math.min(50, stepMsAverage / 4)) * 1_000_000);
  }

  /** Feeds the load to the expert policy's controller; its level holds from the next step on. */
  private void updateLevel(long nowNanos) {
    double latencyVsTarget = expertControl.latencyTargetMs() == 0 ? 0 : stepMsAverage / expertControl.latencyTargetMs();
    policy.onSignals(nowNanos, load.forController(nowNanos, latencyVsTarget));
  }

  @Override
  public void processElement(StreamRecord<RequestBatch> element) throws Exception {
    recordsSinceLetter++;
    for (TokenizedRequest request : element.getValue().requests) {
      waitForRoom();
      offsets.observe(request);
      accept(request);
    }
    scheduleStep();
  }

  /** Runs engine steps until a request can be accepted. */
  private void waitForRoom() throws InterruptedException {
    if (active.size() < settings.maxInFlight()) {
      return;
    }
    // recorded per step, not once at the end: the controller must see a refusal while it lasts
    long start = System.nanoTime();
    while (active.size() >= settings.maxInFlight()) {
      runStep();
      mailbox.tryYield(); // timers and other operators' mail between steps, as between letters
      long now = System.nanoTime();
      load.backpressured(start, now);
      start = now;
    }
  }

  private void accept(TokenizedRequest request) {
    InFlightRequest state = new InFlightRequest();
    state.version = InFlightRequest.CURRENT_VERSION;
    state.request = request;
    state.generated = new int[0];
    state.expertsPerToken = model.config().numExpertsPerTok();
    state.admittedAtMs = System.currentTimeMillis();
    metrics.admitted(request.promptIds.length);
    submit(state);
  }

  /** The fewest experts per token the current level allows {@code request}, after its floor and priority. */
  private int fewestAllowed(TokenizedRequest request) {
    int modelK = model.config().numExpertsPerTok();
    if (request.priority == HIGH_PRIORITY) {
      return modelK;
    }
    return Math.min(modelK, Math.max(request.minExpertsPerToken, policy.levelFewestExperts()));
  }

  /** Dead-letters a restored request that has been in flight through too many restores. */
  private void giveUp(InFlightRequest state) {
    TokenizedRequest r = state.request;
    metrics.givenUp();
    LOG.warn("request {} ({}-{} offset {}) was in flight through {} restores of the job: dead-lettered instead of "
        + "replayed again", r.requestId, r.sourceTopic, r.sourcePartition, r.sourceOffset, state.restores);
    output.collect(DeadLetters.TAG, new StreamRecord<>(DeadLetters.rejected(r.requestId, r.sourceTopic,
        r.sourcePartition, r.sourceOffset, DeadLetters.STAGE_INFERENCE, "in flight through " + state.restores
            + " restores of the job (" + (state.restores + 1) + " attempts, limit "
            + recovery.maxAttemptsPerRequest() + "): it may be what fails the job; not replayed again")));
  }

  /** Hands a request (new or restored) to the engine; a request the engine refuses is answered at once. */
  private void submit(InFlightRequest state) {
    TokenizedRequest r = state.request;
    ActiveGeneration generation = new ActiveGeneration(state, r.requestId + "#" + UUID.randomUUID(), tokenizer);
    try {
      if (r.deadlineEpochMs > 0 && System.currentTimeMillis() > r.deadlineEpochMs) {
        throw new IllegalArgumentException("deadline passed before the request was admitted");
      }
      SamplingParams sampling = new SamplingParams(r.temperature, r.topP, r.topK, r.seed);
      // the request asks for the full model; the policy's level caps it step by step
      engine.submit(new GenerationRequest(generation.engineId, r.promptIds, sampling, r.maxNewTokens,
          null, state.generated)
          .withQuality(r.minExpertsPerToken, r.priority == HIGH_PRIORITY));
    } catch (RuntimeException e) {
      // a request the engine refuses (or fails on) is answered, never retried by a restart
      emit(generation, FinishReason.ERROR, e instanceof IllegalArgumentException ? e.getMessage() : e.toString());
      return;
    }
    active.put(generation.engineId, generation);
  }

  private void scheduleStep() {
    if (!stepScheduled && engine.hasWork()) {
      stepScheduled = true;
      try {
        stepLetters.execute(this::step, "moe decode step");
      } catch (java.util.concurrent.RejectedExecutionException closing) {
        // the task is ending (a stop with savepoint drains the mailbox): what is in flight is in its
        // last checkpoint or savepoint, and a restore continues it
        stepScheduled = false;
      }
    }
  }

  /** One engine step: a mailbox letter. */
  private void step() {
    stepScheduled = false;
    if (!engine.hasWork()) {
      return;
    }
    // The task alternates one mailbox letter and one input record, so a step per letter would admit
    // one record per step and leave arrivals in Kafka, unseen by the load signals. While records keep
    // arriving, letters pass (for a bounded share of the step time) and let them in first.
    boolean inputFlowing = recordsSinceLetter > 0;
    recordsSinceLetter = 0;
    if (inputFlowing && System.nanoTime() - lastStepEndNanos < intakeBudgetNanos()) {
      scheduleStep();
      return;
    }
    runStep();
    scheduleStep();
  }

  /** One engine step and what follows from it: tokens, answers, deadlines, load. */
  private void runStep() {
    long stepStart = System.nanoTime();
    updateLevel(stepStart);
    if (policy.levelFewestExperts() < model.config().numExpertsPerTok()) {
      // prompt chunks run in steps that emit no token: every request in flight is marked, so a generation
      // reported at the full k (ExpertsUsed.min) never had any of its tokens computed with fewer
      for (ActiveGeneration g : active.values()) {
        g.allow(fewestAllowed(g.request));
      }
    }
    long tokensBefore = expertUsage.tokensSeen();
    List<TokenEvent> events = engine.step();
    long stepEnd = System.nanoTime();
    lastStepEndNanos = stepEnd;
    stepMsAverage = 0.8 * stepMsAverage + 0.2 * ((stepEnd - stepStart) / 1e6);
    metrics.step((int) (expertUsage.tokensSeen() - tokensBefore));
    expertMetrics.stepDone(stepEnd);
    long now = System.currentTimeMillis();
    for (TokenEvent event : events) {
      ActiveGeneration generation = active.get(event.requestId());
      if (generation == null) {
        continue; // cancelled by a stop string in this very step
      }
      Generation answer = null;
      try {
        boolean stopString = false;
        if (event.tokenId() >= 0) {
          metrics.generatedToken();
          stopString = generation.accept(event.tokenId(), event.expertsUsedMean(), now);
        }
        if (stopString && !event.finished()) {
          engine.cancel(generation.engineId);
          answer = finish(generation, FinishReason.STOP, null);
        } else if (event.finished()) {
          answer = finish(generation, stopString ? FinishReason.STOP : event.finishReason(), event.error());
        }
      } catch (RuntimeException e) {
        // one request's failure (its text, its stop strings) ends that request, not the task
        LOG.warn("request {} failed after {} tokens", generation.request.requestId, generation.generatedCount(), e);
        engine.cancel(generation.engineId);
        active.remove(generation.engineId);
        answer = generation.toGeneration("", FinishReason.ERROR, "failed in the inference operator: " + e, modelName);
      }
      if (answer != null) {
        // outside the catch: a failure of the operators chained after this one (the sink) is the job's
        output.collect(new StreamRecord<>(answer));
      }
    }
    expireDeadlines(now);
    load.update(engine.waitingCount(), engine.runningCount(), active.size(), engine.kvCache().freeBlocks());
    if (!active.isEmpty() && !engine.hasWork()) {
      throw new IllegalStateException(active.size() + " requests in flight but the engine has no work");
    }
  }

  /** Ends every request, waiting or running, whose deadline has passed. */
  private void expireDeadlines(long now) {
    List<ActiveGeneration> expired = null;
    for (ActiveGeneration g : active.values()) {
      if (g.request.deadlineEpochMs > 0 && now > g.request.deadlineEpochMs) {
        (expired == null ? expired = new ArrayList<>() : expired).add(g);
      }
    }
    if (expired != null) {
      for (ActiveGeneration g : expired) {
        engine.cancel(g.engineId);
        emit(g, FinishReason.ERROR, "deadline passed after " + g.generatedCount() + " tokens");
      }
    }
  }

  private void emit(ActiveGeneration g, FinishReason reason, String error) {
    output.collect(new StreamRecord<>(finish(g, reason, error)));
  }

  /** Ends a request: its answer, with the final text, counted in the metrics. */
  private Generation finish(ActiveGeneration g, FinishReason reason, String error) {
    active.remove(g.engineId);
    Generation out = g.toGeneration(g.finalText(), reason, error, modelName);
    long received = g.request.receivedAtMs;
    long now = System.currentTimeMillis();
    metrics.generation(g.firstTokenAtMs() == 0 ? -1 : g.firstTokenAtMs() - received,
        g.firstTokenAtMs() == 0 ? 0 : now - g.firstTokenAtMs(), g.generatedCount());
    return out;
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    List<InFlightRequest> states = new ArrayList<>(active.size());
    List<TokenizedRequest> unanswered = new ArrayList<>(active.size());
    for (ActiveGeneration g : active.values()) {
      states.add(g.toState());
      unanswered.add(g.request);
    }
    inFlightState.update(states);
    offsets.checkpoint(context.getCheckpointId(), unanswered);
  }

  @Override
  public void notifyCheckpointComplete(long checkpointId) throws Exception {
    super.notifyCheckpointComplete(checkpointId);
    offsets.checkpointComplete(checkpointId);
  }

  @Override
  public void endInput() throws Exception {
    while (!active.isEmpty()) {
      runStep();
      mailbox.tryYield();
    }
  }

  /** Requests accepted and not yet answered (for tests and metrics). */
  int inFlight() {
    return active.size();
  }

  /** The expert policy's level now in force (for tests). */
  int expertLevel() {
    return policy.level();
  }

  /** Tokens routed to each expert since open() (for tests). */
  long expertTokens(int layer, int expert) {
    return expertUsage.tokenCount(layer, expert);
  }

  @Override
  public void close() throws Exception {
    if (consumerLag != null) {
      consumerLag.close();
    }
    if (offsets != null) {
      offsets.close();
    }
    if (model != null) {
      model.close();
    }
    super.close();
  }
}
