package io.moestream.engine.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

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
      return EXTRACTED.computeIfAbsent(name, n -> extracted(dir -> copyUnzipped(folder, dir)));
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
  private static void copyUnzipped(Path from, Path to) {
    try (var files = Files.list(from)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = file.getFileName().toString();
        if (name.endsWith(".gz")) {
          try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            Files.copy(in, to.resolve(name.substring(0, name.length() - 3)), StandardCopyOption.REPLACE_EXISTING);
          }
        } else if (!Files.exists(from.resolve(name + ".gz"))) { // a stale plain copy in target/ loses to the .gz
          Files.copy(file, to.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
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
