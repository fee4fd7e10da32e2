package io.moestream.engine.tokenizer.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.moestream.engine.tokenizer.ChatMessage;
import io.moestream.engine.tokenizer.TokenizerException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import jinjava.javax.el.CompositeELResolver;

/**
 * A tokenizer_config.json "chat_template" rendered with jinjava, set up to behave like the jinja2
 * environment transformers uses ({@code trim_blocks=True, lstrip_blocks=True}, plus the
 * {@code raise_exception}, {@code strftime_now} and {@code tojson} it defines) so the prompt string
 * is the one the model was trained on. See {@link TemplateSource} and {@link PythonStringMethods}
 * for the jinja2 behaviour jinjava needs help with. Thread-safe: each render has its own interpreter.
 */
public final class ChatTemplate {
  /** The message raise_exception was called with in the current render, for the error report. */
  private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

  private final String source;
  private final String bosToken;
  private final String eosToken;
  private final Jinjava jinjava;

  public ChatTemplate(String template, String bosToken, String eosToken) {
    this.source = TemplateSource.forJinjava(template);
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    CompositeELResolver resolver = new CompositeELResolver();
    resolver.add(new PythonStringMethods());
    resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
    this.jinjava = new Jinjava(JinjavaConfig.newBuilder()
        .withTrimBlocks(true)
        .withLstripBlocks(true)
        // jinjava by default renders again any expression output that looks like a template, so a
        // message content of "{{ 7*7 }}" became "49"; jinja2 prints values verbatim, and user text
        // must never run as template code.
        .withNestedInterpretationEnabled(false)
        .withElResolver(resolver)
        .build());
    jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
        "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
        "", "strftime_now", ChatTemplate.class, "strftimeNow", String.class));
    jinjava.getGlobalContext().registerFilter(new ToJsonFilter());
  }

  /**
   * The most (messages x characters of the messages) a render may cost. Templates may copy the
   * conversation once per message: DeepSeek-V3's joins the system messages with {@code +} in a
   * loop, quadratic in jinja2 as here (64k short system messages took 76 s). Every supported
   * template is otherwise linear in the messages and their size. At this bound, a prompt of 1 Mi
   * characters (beyond any model's context) may still have 8192 messages; DeepSeek-V3's template
   * renders a worst case at the bound in about 7 s.
   */
  public static final long MAX_RENDER_WORK = 1L << 33;

  /** The prompt for {@code messages}; ends with the assistant header when {@code addGenerationPrompt}. */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    return render(messages, addGenerationPrompt, ChatTemplateKwargs.NONE);
  }

  /** As {@link #render(List, boolean)}, with the request's extra template variables bound too. */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt, ChatTemplateKwargs kwargs) {
    long chars = 0;
    for (ChatMessage message : messages) {
      chars += message.role().length() + message.content().length();
    }
    if (messages.size() * chars > MAX_RENDER_WORK) {
      throw new TokenizerException("messages: " + messages.size() + " messages of " + chars
          + " characters in all are too many to render in bounded time (messages x characters"
          + " must be at most " + MAX_RENDER_WORK + ")");
    }
    List<Map<String, Object>> messageMaps = new ArrayList<>(messages.size());
    for (ChatMessage message : messages) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", message.role());
      map.put("content", message.content());
      messageMaps.add(map);
    }
    // kwargs first: ChatTemplateKwargs refuses the reserved names, and these puts would win anyway
    Map<String, Object> bindings = new HashMap<>(kwargs.values());
    bindings.put("messages", messageMaps);
    bindings.put("add_generation_prompt", addGenerationPrompt);
    bindings.put("bos_token", bosToken);
    bindings.put("eos_token", eosToken);
    RAISED.remove();
    try {
      RenderResult result = jinjava.renderForResult(source, bindings);
      List<TemplateError> fatal = result.getErrors().stream()
          .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
          .collect(Collectors.toList());
      if (!fatal.isEmpty()) {
        String raised = RAISED.get();
        throw new TokenizerException("chat template: " + (raised != null
            ? "raise_exception(\"" + raised + "\")"
            : fatal.stream().map(e -> "line " + e.getLineno() + ": " + e.getMessage())
                .collect(Collectors.joining("; "))));
      }
      return result.getOutput();
    } finally {
      RAISED.remove();
    }
  }

  /** jinja2 {@code raise_exception(message)} as transformers defines it: aborts the render. */
  public static String raiseException(String message) {
    RAISED.set(message);
    throw new IllegalStateException(message);
  }

  /** transformers' {@code strftime_now(format)}: the current local time, Python strftime format. */
  public static String strftimeNow(String format) {
    LocalDateTime now = LocalDateTime.now();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        out.append(c);
        continue;
      }
      char d = format.charAt(++i);
      String month = now.getMonth().getDisplayName(java.time.format.TextStyle.FULL, java.util.Locale.ENGLISH);
      String day = now.getDayOfWeek().getDisplayName(java.time.format.TextStyle.FULL, java.util.Locale.ENGLISH);
      switch (d) {
        case 'Y': out.append(now.getYear()); break;
        case 'm': out.append(String.format("%02d", now.getMonthValue())); break;
        case 'd': out.append(String.format("%02d", now.getDayOfMonth())); break;
        case 'B': out.append(month); break;
        case 'b': out.append(month, 0, 3); break;
        case 'A': out.append(day); break;
        case 'a': out.append(day, 0, 3); break;
        case 'H': out.append(String.format("%02d", now.getHour())); break;
        case 'M': out.append(String.format("%02d", now.getMinute())); break;
        case 'S': out.append(String.format("%02d", now.getSecond())); break;
        case '%': out.append('%'); break;
        default: out.append('%').append(d);
      }
    }
    return out.toString();
  }

  /** transformers' tojson: Python json.dumps(ensure_ascii=False) with ", " and ": " separators. */
  static final class ToJsonFilter implements Filter {
    @Override
    public String getName() {
      return "tojson";
    }

    @Override
    public Object filter(Object value, JinjavaInterpreter interpreter, String... args) {
      StringBuilder out = new StringBuilder();
      PythonJson.write(value, out);
      return out.toString();
    }
  }
}
