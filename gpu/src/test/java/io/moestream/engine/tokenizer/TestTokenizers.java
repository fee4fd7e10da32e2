package io.moestream.engine.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tokenizers under src/test/resources/tokenizers, loaded once per test JVM. Qwen3's is not kept twice in
 * the repository (11 MB): it is the copy bundled in the jar, written once per JVM to a temporary folder.
 */
final class TestTokenizers {
  private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();
  private static Path qwen3Folder;

  private TestTokenizers() {}

  static Path folder(String name) {
    if (name.equals("qwen3")) {
      return bundledQwen3();
    }
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

  private static synchronized Path bundledQwen3() {
    if (qwen3Folder == null) {
      try {
        Path dir = Files.createTempDirectory("moestream-test-qwen3-");
        BundledTokenizers.copyQwen3To(dir);
        for (String name : new String[] {"LICENSE", "tokenizer.json", "tokenizer_config.json"}) {
          dir.resolve(name).toFile().deleteOnExit();
        }
        dir.toFile().deleteOnExit();
        qwen3Folder = dir;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return qwen3Folder;
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
