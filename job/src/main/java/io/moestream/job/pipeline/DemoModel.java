package io.moestream.job.pipeline;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import io.moestream.engine.tokenizer.BundledTokenizers;
import io.moestream.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A small random-weight Qwen3-MoE model with the real Qwen3 tokenizer: what {@code demo} runs when
 * no model is given, and what the end-to-end suites run. Prompts tokenize exactly as with a real
 * Qwen3 checkpoint; the generated text is meaningless.
 */
public final class DemoModel {
  private DemoModel() {}

  /** Hidden size 64, 2 layers, 8 experts (top-2), F32: about 40 MiB, most of it the vocabulary. */
  public static TestModelSpec spec() {
    return TestModelSpec.defaults(Architecture.QWEN3_MOE).withSeed(7);
  }

  /** Writes {@code spec} with the Qwen3 tokenizer into {@code dir}; the vocabulary covers the tokenizer. */
  public static Path write(TestModelSpec spec, Path dir) throws IOException {
    BundledTokenizers.copyQwen3To(dir);
    Tokenizer tokenizer = Tokenizer.load(dir);
    int eos = tokenizer.eosTokenId().orElse(spec.eosTokenId());
    TestModelSpec sized = spec.withVocabSize(Math.max(spec.vocabSize(), tokenizer.vocabSize()))
        .withSpecialTokens(tokenizer.bosTokenId().orElse(eos), eos);
    TestModelWriter.write(sized, dir);
    return dir;
  }
}
