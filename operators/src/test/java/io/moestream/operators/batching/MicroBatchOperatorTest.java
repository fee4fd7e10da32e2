package io.moestream.operators.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.moestream.operators.records.InFlightRequest;
import io.moestream.operators.records.RequestBatch;
import io.moestream.operators.records.TokenizedRequest;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class MicroBatchOperatorTest {
  private static TokenizedRequest request(String id) {
    TokenizedRequest r = new TokenizedRequest();
    r.requestId = id;
    r.promptIds = new int[] {1, 2};
    r.stop = new String[0];
    return r;
  }

  private static OneInputStreamOperatorTestHarness<TokenizedRequest, RequestBatch> harness() throws Exception {
    return new OneInputStreamOperatorTestHarness<>(new MicroBatchOperator(new BatchingSettings(8, 100)));
  }

  private static List<Integer> sizes(OneInputStreamOperatorTestHarness<TokenizedRequest, RequestBatch> h) {
    return h.extractOutputValues().stream().map(RequestBatch::size).toList();
  }

  @Test
  void lightTrafficSendsSingleRequestsAtOnce() throws Exception {
    try (var h = harness()) {
      h.open();
      for (int i = 0; i < 4; i++) {
        h.setProcessingTime(i * 1000L);
        h.processElement(request("r" + i), 0);
      }
      assertEquals(List.of(1, 1, 1, 1), sizes(h));
    }
  }

  @Test
  void queuedRequestsGrowTheBatchAndTheBudgetBoundsTheWait() throws Exception {
    try (var h = harness()) {
      h.open();
      h.setProcessingTime(0);
      h.processElement(request("first"), 0); // no history yet: alone
      for (int i = 0; i < 20; i++) {
        h.processElement(request("burst" + i), 0); // back to back: gaps of 0 ms
      }
      h.setProcessingTime(200); // any remainder leaves when the latency budget runs out
      List<Integer> sizes = sizes(h);
      assertEquals(21, sizes.stream().mapToInt(Integer::intValue).sum());
      assertEquals(8, sizes.stream().mapToInt(Integer::intValue).max().orElse(0), sizes.toString());
    }
  }

  @Test
  void bufferedRequestsSurviveARestore() throws Exception {
    OperatorSubtaskState snapshot;
    try (var h = harness()) {
      h.open();
      h.setProcessingTime(0);
      h.processElement(request("a"), 0);
      h.processElement(request("b"), 0);
      h.processElement(request("c"), 0);
      snapshot = h.snapshot(1, 1);
    }
    try (var h = harness()) {
      h.initializeState(snapshot);
      h.open();
      h.setProcessingTime(500);
      List<String> ids = h.extractOutputValues().stream()
          .flatMap(b -> java.util.Arrays.stream(b.requests)).map(r -> r.requestId).toList();
      assertFalse(ids.isEmpty());
      assertEquals(List.of("b", "c"), ids.subList(ids.size() - 2, ids.size()));
    }
  }

  @Test
  void stateTypesAreFlinkPojosNotKryo() {
    for (Class<?> type : List.of(TokenizedRequest.class, RequestBatch.class, InFlightRequest.class)) {
      assertFalse(TypeInformation.of(type) instanceof GenericTypeInfo, type + " would fall back to Kryo");
    }
  }
}
