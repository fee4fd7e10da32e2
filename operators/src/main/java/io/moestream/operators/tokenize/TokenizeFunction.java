package io.moestream.operators.tokenize;

import io.moestream.engine.generate.SamplingDefaults;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.tokenizer.SpecialTokensInContent;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.engine.tokenizer.TokenizerException;
import io.moestream.operators.codec.UnsetSampling;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.operators.records.RoutedDeadLetter;
import io.moestream.operators.records.TokenizedRequest;
import io.moestream.operators.records.ValidatedRequest;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.nio.file.Path;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tokenizes validated requests with the model folder's tokenizer (loaded once per subtask);
 * prompts that do not fit the model's context go to the dead letters.
 */
public final class TokenizeFunction extends ProcessFunction<ValidatedRequest, TokenizedRequest> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(TokenizeFunction.class);

  private final String modelDir;
  private final SpecialTokensInContent specialTokensInContent;
  private transient PromptTokenizer tokenizer;
  /** generation_config.json's sampling defaults, for the fields a request leaves unset. */
  private transient SamplingDefaults defaults;
  private transient Counter deadLetters;

  public TokenizeFunction(String modelDir) {
    this(modelDir, SpecialTokensInContent.TEXT);
  }

  /** @param specialTokensInContent what special-token strings typed in chat message content become */
  public TokenizeFunction(String modelDir, SpecialTokensInContent specialTokensInContent) {
    this.modelDir = modelDir;
    this.specialTokensInContent = specialTokensInContent;
  }

  @Override
  public void open(OpenContext context) {
    Path dir = Path.of(modelDir);
    if (!Tokenizer.isPresent(dir)) {
      throw new IllegalStateException(dir + " has no tokenizer.json: the streaming job needs a tokenizer");
    }
    tokenizer = new PromptTokenizer(Tokenizer.load(dir), ModelConfig.read(dir).maxPositionEmbeddings(),
        specialTokensInContent);
    defaults = SamplingDefaults.read(dir);
    LOG.info("sampling fields a request leaves unset: {}", defaults.describe());
    deadLetters = getRuntimeContext().getMetricGroup().counter(MetricNames.DEAD_LETTERS_TOKENIZE);
  }

  /**
   * Whatever one request's prompt makes the tokenizer throw (a stack overflow or out-of-memory error
   * included) dead-letters that request: a failed task would restart and meet it again.
   */
  @Override
  public void processElement(ValidatedRequest in, Context ctx, Collector<TokenizedRequest> out) {
    TokenizedRequest tokenized;
    try {
      tokenized = toTokenized(in.request, tokenizer.promptIds(in.request), in.receivedAtMs, defaults);
    } catch (IllegalArgumentException | TokenizerException e) {
      // what the request asks cannot be served (too long, too much to render): its own reason says why
      deadLetter(in, ctx, e.getMessage());
      return;
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      deadLetter(in, ctx, DeadLetters.failed(DeadLetters.STAGE_TOKENIZE, e));
      return;
    }
    tokenized.sourceTopic = in.topic;
    tokenized.sourcePartition = in.partition;
    tokenized.sourceOffset = in.offset;
    tokenized.headers = in.headers;
    // outside the catches: the operators chained after this one run inside collect
    out.collect(tokenized);
  }

  private void deadLetter(ValidatedRequest in, Context ctx, String reason) {
    deadLetters.inc();
    ctx.output(DeadLetters.TAG, new RoutedDeadLetter(DeadLetters.rejected(in.request.getRequestId(), in.topic,
        in.partition, in.offset, DeadLetters.STAGE_TOKENIZE, reason), in.headers));
  }

  /**
   * The engine-facing form of a request whose prompt is {@code promptIds}: the sampling fields it
   * leaves unset (-1) take {@code defaults}. Resolved here, once, so the checkpointed in-flight
   * request holds the values it was generated with, whatever the folder says after a restore.
   */
  public static TokenizedRequest toTokenized(InferenceRequest r, int[] promptIds, long receivedAtMs,
      SamplingDefaults defaults) {
    TokenizedRequest t = new TokenizedRequest();
    t.requestId = r.getRequestId();
    t.promptIds = promptIds;
    t.maxNewTokens = r.getMaxNewTokens();
    Sampling s = r.getSampling();
    SamplingParams sampling = UnsetSampling.resolve(s, defaults);
    t.temperature = sampling.temperature();
    t.topP = sampling.topP();
    t.topK = sampling.topK();
    t.seed = sampling.seed();
    t.stop = s.getStop().toArray(new String[0]);
    t.priority = r.getPriority().ordinal();
    t.deadlineEpochMs = r.getDeadlineEpochMs() == null ? 0 : r.getDeadlineEpochMs();
    t.minExpertsPerToken = r.getMinExpertsPerToken() == null ? 0 : r.getMinExpertsPerToken();
    t.receivedAtMs = receivedAtMs;
    t.replyTopic = r.getReplyTopic();
    return t;
  }
}
