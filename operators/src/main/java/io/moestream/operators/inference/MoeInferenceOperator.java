package io.moestream.operators.inference;

import io.moestream.engine.generate.Engine;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.generate.TokenEvent;
import io.moestream.engine.policy.ExpertUsage;
import io.moestream.engine.policy.PolicyDriver;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.metrics.ConsumerLag;
import io.moestream.operators.metrics.ExpertMetrics;
import io.moestream.operators.metrics.InferenceMetrics;
import io.moestream.operators.metrics.LoadSignals;
import io.moestream.operators.metrics.WallTime;
import io.moestream.operators.metrics.WallTime.Use;
import io.moestream.operators.offsets.CheckpointedOffsets;
import io.moestream.operators.records.InFlightRequest;
import io.moestream.operators.records.RequestBatch;
import io.moestream.operators.records.RoutedDeadLetter;
import io.moestream.operators.records.TokenizedRequest;
import io.moestream.operators.records.RoutedGeneration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * <p>Pieces: {@link InFlightGenerations} (requests in, answers out), {@link StepQuality} (the policy's
 * level from the load), {@link WallTime} (where the task thread's time goes: engine,
 * tokens, emitting, intake, snapshots, waiting with and without work); this class paces the steps on
 * the mailbox and holds the Flink state.
 *
 * <p>Offsets: once a checkpoint completes, the oldest offset per input partition that this subtask
 * had not answered at it is committed ({@link CheckpointedOffsets}), so a job submitted again without
 * a savepoint reads every unanswered request again.
 */
public final class MoeInferenceOperator extends AbstractStreamOperator<RoutedGeneration>
    implements OneInputStreamOperator<RequestBatch, RoutedGeneration>, BoundedOneInput {
  private static final long serialVersionUID = 1L;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MoeInferenceOperator.class);

  /** Accepted, unanswered requests with their tokens so far, at the checkpoint. */
  public static final String IN_FLIGHT_STATE = "moe-in-flight-requests";

  /** How often the load reaches the controller while no step runs: an idle job climbs back to full quality. */
  static final long CONTROLLER_TICK_MS = 250;

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
  /** This subtask's GPU of the TaskManager, held from open() to close(); null on the CPU. */
  private transient GpuClaims.Claim gpu;
  private transient Engine engine;
  private transient ListState<InFlightRequest> inFlightState;
  private transient List<InFlightRequest> restored;
  private transient InFlightGenerations inFlight;
  private transient StepQuality quality;
  private transient WallTime wallTime;
  /** Answers of the current segment, emitted together at its end. */
  private transient List<RoutedGeneration> answers;
  private transient boolean stepScheduled;
  private transient LoadSignals load;
  private transient ExpertUsage expertUsage;
  private transient ExpertMetrics expertMetrics;
  private transient InferenceMetrics metrics;
  /** Recent time per step (= per output token of a running sequence), ms; for the latency signal. */
  private transient double stepMsAverage;
  /** Input records processed since the last step letter ran. */
  private transient int recordsSinceLetter;
  private transient long lastStepEndNanos;

  MoeInferenceOperator(StreamOperatorParameters<RoutedGeneration> parameters, InferenceSettings settings,
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
    gpu = GpuAssignment.claim(GpuClaims.jvmWide(),
        getRuntimeContext().getExternalResourceInfos(GpuAssignment.RESOURCE_NAME), settings.backend(),
        getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks());
    try {
      model = expertControl.load(dir, settings.engineOptions(gpu == null ? 0 : gpu.deviceIndex()));
    } catch (RuntimeException | Error e) {
      releaseGpu(); // the next attempt in this TaskManager may take it again
      throw e;
    }
    engine = model.engine();
    Tokenizer tokenizer = Tokenizer.isPresent(dir) ? Tokenizer.load(dir) : null;
    int modelK = model.config().numExpertsPerTok();
    load = new LoadSignals(settings.maxInFlight());
    load.kvTotalBlocks(engine.kvCache().numBlocks());
    load.register(getMetricGroup());
    if (consumerLagFactory != null) {
      consumerLag = consumerLagFactory.open();
      load.consumerLagFrom(consumerLag);
    }
    PolicyDriver policy = new PolicyDriver(engine, expertControl.parsedPolicy(), expertControl.controller());
    quality = new StepQuality(policy, expertControl.latencyTargetMs());
    expertUsage = new ExpertUsage(model.config());
    model.backend().setRoutingObserver(expertUsage);
    expertMetrics = new ExpertMetrics(getMetricGroup(), model.config(), expertUsage, policy,
        expertControl.expertsKept(model.config().numExperts()));
    boolean cuda = model.backend().deviceMemoryBytes() >= 0;
    metrics = new InferenceMetrics(getMetricGroup(), cuda, InferenceMetrics.weightBytes(dir), settings.kvCacheBytes(),
        model.backend()::deviceMemoryBytes);
    wallTime = new WallTime(System::nanoTime);
    wallTime.register(getMetricGroup());
    inFlight = new InFlightGenerations(engine, tokenizer, dir.getFileName().toString(), modelK, metrics);
    answers = new ArrayList<>();
    offsets = new CheckpointedOffsets(recovery.offsetCommitter() == null ? null : recovery.offsetCommitter().open());
    for (InFlightRequest state : restored) {
      offsets.observe(state.request);
      state.restores++;
      if (state.restores >= recovery.maxAttemptsPerRequest()) {
        giveUp(state);
        continue;
      }
      inFlight.resubmit(state, answers);
      metrics.replayed();
    }
    restored = null;
    emitAnswers();
    scheduleStep();
    scheduleControllerTick();
  }

  private void scheduleControllerTick() {
    var time = getProcessingTimeService();
    time.registerTimer(time.getCurrentProcessingTime() + CONTROLLER_TICK_MS, timestamp -> {
      long now = System.nanoTime();
      if (!engine.hasWork()) {
        updateLoad();
        stepMsAverage = 0; // no step runs: no token is late
        quality.update(now, load, stepMsAverage);
        expertMetrics.roll(now);
      }
      wallTime.roll(now);
      scheduleControllerTick();
    });
  }

  @Override
  public void processElement(StreamRecord<RequestBatch> element) throws Exception {
    recordsSinceLetter++;
    for (TokenizedRequest request : element.getValue().requests) {
      waitForRoom();
      long begin = wallTime.begin();
      offsets.observe(request);
      inFlight.accept(request, answers);
      wallTime.end(Use.INTAKE, begin, engine.hasWork());
      emitAnswers();
    }
    scheduleStep();
  }

  /** Runs engine steps until a request can be accepted. */
  private void waitForRoom() throws InterruptedException {
    if (inFlight.size() < settings.maxInFlight()) {
      return;
    }
    // recorded per step, not once at the end: the controller must see a refusal while it lasts
    long start = System.nanoTime();
    while (inFlight.size() >= settings.maxInFlight()) {
      runStep();
      mailbox.tryYield(); // timers and other operators' mail between steps, as between letters
      long now = System.nanoTime();
      load.backpressured(start, now);
      start = now;
    }
  }

  /** Dead-letters a restored request that has been in flight through too many restores. */
  private void giveUp(InFlightRequest state) {
    TokenizedRequest r = state.request;
    metrics.givenUp();
    LOG.warn("request {} ({}-{} offset {}) was in flight through {} restores of the job: dead-lettered instead of "
        + "replayed again", r.requestId, r.sourceTopic, r.sourcePartition, r.sourceOffset, state.restores);
    output.collect(DeadLetters.TAG, new StreamRecord<>(new RoutedDeadLetter(DeadLetters.rejected(r.requestId,
        r.sourceTopic, r.sourcePartition, r.sourceOffset, DeadLetters.STAGE_INFERENCE, "in flight through "
            + state.restores + " restores of the job (" + (state.restores + 1) + " attempts, limit "
            + recovery.maxAttemptsPerRequest() + "): it may be what fails the job; not replayed again"), r.headers)));
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

  /** How long after a step arriving records may hold back the next one: a quarter of a step, 1 to 50 ms. */
  private long intakeBudgetNanos() {
    return (long) (Math.max(1, Math.min(50, stepMsAverage / 4)) * 1_000_000);
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
    long stepStart = wallTime.begin();
    quality.update(stepStart, load, stepMsAverage);
    long engineStart = System.nanoTime();
    wallTime.end(Use.TOKENS, stepStart, true);
    List<TokenEvent> events = engine.step();
    long stepEnd = System.nanoTime();
    wallTime.end(Use.ENGINE_STEP, engineStart, true);
    lastStepEndNanos = stepEnd;
    stepMsAverage = 0.8 * stepMsAverage + 0.2 * ((stepEnd - engineStart) / 1e6);
    long tokensStart = wallTime.begin();
    int[][] expertsUsed = engine.lastStepExpertsUsed(); // (numLayers, tokens of the step)
    metrics.step(expertsUsed.length == 0 ? 0 : expertsUsed[0].length);
    expertMetrics.stepDone(stepEnd, expertsUsed);
    long now = System.currentTimeMillis();
    inFlight.onStep(events, now, answers);
    inFlight.expireDeadlines(now, answers);
    updateLoad();
    wallTime.end(Use.TOKENS, tokensStart, engine.hasWork());
    // outside the engine's and the requests' error handling: a failure of the operators chained after
    // this one (the sink) is the job's
    emitAnswers();
    if (!inFlight.isEmpty() && !engine.hasWork()) {
      throw new IllegalStateException(inFlight.size() + " requests in flight but the engine has no work");
    }
  }

  private void updateLoad() {
    load.update(engine.waitingCount(), engine.runningCount(), inFlight.size(), engine.kvCache().freeBlocks());
  }

  /** Sends the answers gathered since the last call downstream, in the order they were made. */
  private void emitAnswers() {
    if (answers.isEmpty()) {
      return;
    }
    long begin = wallTime.begin();
    for (RoutedGeneration answer : answers) {
      output.collect(new StreamRecord<>(answer));
    }
    answers.clear();
    wallTime.end(Use.EMIT, begin, engine.hasWork());
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    long begin = wallTime.begin();
    inFlightState.update(inFlight.states());
    offsets.checkpoint(context.getCheckpointId(), inFlight.requests());
    wallTime.end(Use.SNAPSHOT, begin, engine.hasWork());
  }

  @Override
  public void notifyCheckpointComplete(long checkpointId) throws Exception {
    super.notifyCheckpointComplete(checkpointId);
    offsets.checkpointComplete(checkpointId);
  }

  @Override
  public void endInput() throws Exception {
    while (!inFlight.isEmpty()) {
      runStep();
      mailbox.tryYield();
    }
  }

  /** Requests accepted and not yet answered (for tests and metrics). */
  int inFlight() {
    return inFlight.size();
  }

  /** The expert policy's level now in force (for tests). */
  int expertLevel() {
    return quality.level();
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
    try {
      if (model != null) {
        model.close();
      }
    } finally {
      releaseGpu(); // after the backend let go of the device, even when closing it failed
    }
    super.close();
  }

  private void releaseGpu() {
    if (gpu != null) {
      gpu.close();
      gpu = null;
    }
  }
}
