package io.moestream.operators.validate;

import io.moestream.engine.tokenizer.chat.ChatTemplateKwargs;
import io.moestream.operators.codec.UnsetSampling;
import io.moestream.schemas.ChatMessage;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.util.Optional;
import java.util.Set;

/** The checks a decoded request must pass before it costs any tokenizer or engine time. */
public final class RequestValidator {
  static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

  private final RequestLimits limits;

  public RequestValidator(RequestLimits limits) {
    this.limits = limits;
  }

  /** The first problem found, naming the field, or empty when the request is good. */
  public Optional<String> problem(InferenceRequest r) {
    String id = r.getRequestId();
    if (id == null || id.isBlank()) {
      return Optional.of("request_id: missing or blank");
    }
    if (id.length() > RequestLimits.MAX_REQUEST_ID_LENGTH) {
      return Optional.of("request_id: longer than " + RequestLimits.MAX_REQUEST_ID_LENGTH + " characters, found "
          + id.length());
    }
    boolean hasPrompt = r.getPrompt() != null;
    boolean hasMessages = r.getMessages() != null;
    if (hasPrompt == hasMessages) {
      return Optional.of(hasPrompt ? "prompt and messages: give one, not both" : "prompt: missing (give prompt or messages)");
    }
    if (hasPrompt && r.getPrompt().isBlank()) {
      return Optional.of("prompt: empty");
    }
    if (hasPrompt && utf8Length(r.getPrompt()) > limits.maxPromptBytes()) {
      return Optional.of("prompt: " + utf8Length(r.getPrompt()) + " UTF-8 bytes, over limits.max_prompt_bytes ("
          + limits.maxPromptBytes() + ")");
    }
    if (hasMessages) {
      Optional<String> problem = messagesProblem(r);
      if (problem.isPresent()) {
        return problem;
      }
    }
    int maxNew = r.getMaxNewTokens();
    if (maxNew < 1 || maxNew > limits.maxNewTokens()) {
      return Optional.of("max_new_tokens: must be in [1, " + limits.maxNewTokens() + "], found " + maxNew);
    }
    Optional<String> sampling = samplingProblem(r.getSampling());
    if (sampling.isPresent()) {
      return sampling;
    }
    if (r.getChatTemplateKwargs() != null) {
      if (!hasMessages) {
        return Optional.of("chat_template_kwargs: only with messages (a prompt is not rendered with the chat"
            + " template)");
      }
      try {
        ChatTemplateKwargs.fromJsonValues(r.getChatTemplateKwargs(), "chat_template_kwargs");
      } catch (IllegalArgumentException e) {
        return Optional.of(e.getMessage());
      }
    }
    Integer floor = r.getMinExpertsPerToken();
    if (floor != null && (floor < 1 || floor > limits.maxExpertsPerToken())) {
      return Optional.of("min_experts_per_token: must be in [1, " + limits.maxExpertsPerToken()
          + "] (the model's experts per token), found " + floor);
    }
    return Optional.empty();
  }

  private Optional<String> messagesProblem(InferenceRequest r) {
    if (r.getMessages().isEmpty()) {
      return Optional.of("messages: empty");
    }
    if (r.getMessages().size() > limits.maxMessages()) {
      return Optional.of("messages: " + r.getMessages().size() + " messages, over limits.max_messages ("
          + limits.maxMessages() + ")");
    }
    long contentBytes = 0;
    for (int i = 0; i < r.getMessages().size(); i++) {
      ChatMessage m = r.getMessages().get(i);
      if (!ROLES.contains(m.getRole())) {
        // the role is echoed; cut it, it may be anything up to the record's size
        String role = m.getRole().length() > 40 ? m.getRole().substring(0, 40) + "..." : m.getRole();
        return Optional.of("messages[" + i + "].role: unknown value '" + role + "' (expected " + String.join(", ",
            new java.util.TreeSet<>(ROLES)) + ")");
      }
      contentBytes += utf8Length(m.getContent());
    }
    if (contentBytes > limits.maxPromptBytes()) {
      return Optional.of("messages: contents of " + contentBytes + " UTF-8 bytes together, over limits.max_prompt_bytes ("
          + limits.maxPromptBytes() + ")");
    }
    return Optional.empty();
  }

  /** UTF-8 length without encoding: a prompt near the limit is counted, not copied. */
  static long utf8Length(CharSequence s) {
    long bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3; // a lone surrogate is written as '?' (1 byte) by String.getBytes; 3 is the safe side
      }
    }
    return bytes;
  }

  private Optional<String> samplingProblem(Sampling s) {
    // exactly -1 (null here): unset, the model's generation_config.json decides (checked when the job
    // starts); any other negative is a bad value
    Float t = UnsetSampling.temperature(s);
    if (t != null && !(t >= 0 && t <= RequestLimits.MAX_TEMPERATURE)) {
      return Optional.of("sampling.temperature: must be in [0, " + RequestLimits.MAX_TEMPERATURE + "] (or -1: unset),"
          + " found " + t);
    }
    Float p = UnsetSampling.topP(s);
    if (p != null && !(p > 0 && p <= 1)) {
      return Optional.of("sampling.top_p: must be in (0, 1] (or -1: unset), found " + p);
    }
    Integer k = UnsetSampling.topK(s);
    if (k != null && k < 0) {
      return Optional.of("sampling.top_k: must be >= 0 (or -1: unset), found " + k);
    }
    if (s.getStop().size() > limits.maxStopStrings()) {
      return Optional.of("sampling.stop: at most " + limits.maxStopStrings() + " strings, found " + s.getStop().size());
    }
    for (String stop : s.getStop()) {
      if (stop.isEmpty()) {
        return Optional.of("sampling.stop: empty stop string");
      }
    }
    return Optional.empty();
  }
}
