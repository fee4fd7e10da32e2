package io.moestream.engine.tokenizer;

import io.moestream.engine.format.BundledFiles;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Tokenizer files shipped inside the moestream jar. Demo models with random weights have no
 * tokenizer of their own; they get the Qwen3 one so that text goes in and comes out.
 */
public final class BundledTokenizers {
  private static final String QWEN3 = "/io/moestream/engine/tokenizer/qwen3/";
  /** tokenizer.json is stored gzipped (11 MB as shipped, 2 MB compressed) and written out as shipped. */
  private static final List<String> QWEN3_FILES =
      List.of(TokenizerLoader.TOKENIZER_JSON + ".gz", TokenizerLoader.TOKENIZER_CONFIG_JSON, "LICENSE");

  private static final String ENGLISH_PROSE = "/io/moestream/engine/tokenizer/bench/english-prose.txt";

  private BundledTokenizers() {}

  /**
   * About 4.7 KB of English prose written for this project (bench/english-prose.txt), the default
   * text of the tokenizer benchmark.
   */
  public static String englishProse() {
    try (InputStream in = BundledTokenizers.class.getResourceAsStream(ENGLISH_PROSE)) {
      if (in == null) {
        throw new TokenizerException("bundled resource " + ENGLISH_PROSE + " is missing from the jar");
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the Qwen3 tokenizer.json, tokenizer_config.json and LICENSE into {@code dir}. */
  public static void copyQwen3To(Path dir) {
    try {
      BundledFiles.copyTo(BundledTokenizers.class, QWEN3, QWEN3_FILES, dir);
    } catch (FileNotFoundException e) {
      throw new TokenizerException(e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the bundled Qwen3 tokenizer to " + dir, e);
    }
  }
}
