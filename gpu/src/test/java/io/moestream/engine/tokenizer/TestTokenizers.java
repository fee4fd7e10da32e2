package io.moestream.engine.tokenizer;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The tokenizers under src/test/resources/tokenizers, loaded once per test JVM. */
final class TestTokenizers {
  private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

  private TestTokenizers() {}

  static Path folder(String name) {
    URL url = TestTokenizers.class.getResource("/tokenizers/" + name);
    if (url == null) {
      throw new IllegalStateException("test resource tokenizers/" + name + " is missing");
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Tokenizer qwen3() {
    return LOADED.computeIfAbsent("qwen3", n -> Tokenizer.load(folder(n)));
  }

  static Tokenizer deepseekV3() {
    return LOADED.computeIfAbsent("deepseek_v3", n -> Tokenizer.load(folder(n)));
  }

  static Tokenizer named(String name) {
    return LOADED.computeIfAbsent(name, n -> Tokenizer.load(folder(n)));
  }
}
