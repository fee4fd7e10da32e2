package io.moestream.engine.tokenizer;

import io.moestream.engine.format.BundledFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tokenizers under src/test/resources/tokenizers, loaded once per test JVM. Qwen3's is not kept twice in
 * the repository: it is the copy bundled in the jar, written once per JVM to a temporary folder. A folder whose
 * tokenizer.json is stored gzipped (DeepSeek-V3's, 8 MB as shipped) is written out the same way.
 */
final class TestTokenizers {
  private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();
  private static final Map<String, Path> EXTRACTED = new ConcurrentHashMap<>();

  private TestTokenizers() {}

  static Path folder(String name) {
    if (name.equals("qwen3")) {
      return EXTRACTED.computeIfAbsent(name, n -> extracted(BundledTokenizers::copyQwen3To));
    }
    URL url = TestTokenizers.class.getResource("/tokenizers/" + name);
    if (url == null) {
      throw new IllegalStateException("test resource tokenizers/" + name + " is missing");
    }
    Path folder;
    try {
      folder = Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    if (Files.isRegularFile(folder.resolve("tokenizer.json.gz"))) {
      return EXTRACTED.computeIfAbsent(name, n -> extracted(dir -> copyUnzipped(name, folder, dir)));
    }
    return folder;
  }

  private static Path extracted(java.util.function.Consumer<Path> writer) {
    try {
      Path dir = Files.createTempDirectory("moestream-test-tokenizer-");
      dir.toFile().deleteOnExit(); // deleted in reverse order: the files first, then the folder
      writer.accept(dir);
      try (var files = Files.list(dir)) {
        files.forEach(f -> f.toFile().deleteOnExit());
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The folder with its gzipped files written out plain. */
  private static void copyUnzipped(String name, Path from, Path to) {
    try (var files = Files.list(from)) {
      // a stale plain copy in target/ (an in-place build from before the file was gzipped) loses to the .gz
      List<String> names = files.map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith(".gz") || !Files.exists(from.resolve(n + ".gz"))).toList();
      BundledFiles.copyTo(TestTokenizers.class, "/tokenizers/" + name + "/", names, to);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
