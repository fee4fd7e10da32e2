package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** One Tokenizer shared by several threads (as Flink subtasks may) gives the single-thread ids. */
class ConcurrencyTest {
  @Test
  void concurrentEncodingMatchesSequential() throws Exception {
    Tokenizer qwen3 = Tokenizer.load(TestTokenizers.folder("qwen3")); // fresh, empty word cache
    Tokenizer reference = TestTokenizers.qwen3();
    Random random = new Random(5);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      texts.add(RandomText.next(random));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<List<int[]>>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        results.add(pool.submit(() -> texts.stream().map(qwen3::encode).toList()));
      }
      for (Future<List<int[]>> result : results) {
        List<int[]> ids = result.get();
        for (int i = 0; i < texts.size(); i++) {
          assertArrayEquals(reference.encode(texts.get(i)), ids.get(i));
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
