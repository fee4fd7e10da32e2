package io.moestream.operators.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.junit.jupiter.api.Test;

class GpuAssignmentTest {

  private static ExternalResourceInfo gpu(String index) {
    return new ExternalResourceInfo() {
      @Override
      public Optional<String> getProperty(String key) {
        return key.equals("index") ? Optional.of(index) : Optional.empty();
      }

      @Override
      public Collection<String> getKeys() {
        return Set.of("index");
      }
    };
  }

  @Test
  void theDriversIndexesAscending() {
    assertEquals(List.of(1, 3), GpuAssignment.indexes(List.of(gpu(" 3"), gpu("1"))));
    assertEquals(List.of(), GpuAssignment.indexes(List.of()));
  }

  @Test
  void aCpuBackendOrNoGpuDriverClaimsNothing() {
    GpuClaims claims = new GpuClaims();
    assertNull(GpuAssignment.claim(claims, List.of(gpu("0")), "cpu", "inference (1/2)"));
    assertNull(GpuAssignment.claim(claims, List.of(), "auto", "inference (1/2)"));
    assertEquals(List.of(), claims.held());
  }

  @Test
  void eachSubtaskOfATaskManagerGetsItsOwnGpuWhateverItsIndex() {
    // subtasks 1 and 3 of a job land on a TaskManager with GPUs 3 and 1: index % 2 would give both GPU 1
    GpuClaims claims = new GpuClaims();
    List<ExternalResourceInfo> gpus = List.of(gpu("3"), gpu("1"));
    GpuClaims.Claim first = GpuAssignment.claim(claims, gpus, "cuda", "inference (2/4)");
    GpuClaims.Claim second = GpuAssignment.claim(claims, gpus, "auto", "inference (4/4)");
    assertEquals(1, first.deviceIndex());
    assertEquals(3, second.deviceIndex());
  }

  @Test
  void oneSubtaskMoreThanGpusFailsSayingHowManyOfEach() {
    GpuClaims claims = new GpuClaims();
    List<Integer> gpus = List.of(0, 1);
    claims.claim(gpus, "inference (1/3)");
    claims.claim(gpus, "inference (2/3)");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> claims.claim(gpus, "inference (3/3)"));
    assertTrue(e.getMessage().contains("2 GPU(s)") && e.getMessage().contains("inference (3/3) needs one more")
        && e.getMessage().contains("0 (inference (1/3))") && e.getMessage().contains("numberOfTaskSlots"),
        e.getMessage());
  }

  @Test
  void aReleasedGpuIsClaimedAgainAndReleasingTwiceDoesNothing() {
    GpuClaims claims = new GpuClaims();
    List<Integer> gpus = List.of(0, 1);
    GpuClaims.Claim zero = claims.claim(gpus, "a");
    GpuClaims.Claim one = claims.claim(gpus, "b");
    zero.close();
    GpuClaims.Claim again = claims.claim(gpus, "c"); // a restarted subtask takes the freed GPU
    assertEquals(0, again.deviceIndex());
    zero.close(); // the old claim's second release must not free the new holder's GPU
    assertEquals(List.of(0, 1), claims.held());
    assertThrows(IllegalStateException.class, () -> claims.claim(gpus, "d"));
    one.close();
    again.close();
    assertEquals(List.of(), claims.held());
  }

  @Test
  void concurrentClaimsNeverShareAGpu() throws Exception {
    GpuClaims claims = new GpuClaims();
    List<Integer> gpus = List.of(0, 1, 2, 3, 4, 5, 6, 7);
    int subtasks = 12;
    ExecutorService pool = Executors.newFixedThreadPool(subtasks);
    try {
      for (int round = 0; round < 20; round++) {
        CountDownLatch start = new CountDownLatch(1);
        ConcurrentLinkedQueue<Integer> granted = new ConcurrentLinkedQueue<>();
        List<Future<GpuClaims.Claim>> results = new ArrayList<>();
        for (int s = 0; s < subtasks; s++) {
          String holder = "inference (" + (s + 1) + "/" + subtasks + ")";
          results.add(pool.submit(() -> {
            start.await();
            try {
              GpuClaims.Claim claim = claims.claim(gpus, holder);
              granted.add(claim.deviceIndex());
              return claim;
            } catch (IllegalStateException e) {
              return null;
            }
          }));
        }
        start.countDown();
        int refused = 0;
        List<GpuClaims.Claim> held = new ArrayList<>();
        for (Future<GpuClaims.Claim> result : results) {
          GpuClaims.Claim claim = result.get();
          if (claim == null) {
            refused++;
          } else {
            held.add(claim);
          }
        }
        assertEquals(subtasks - gpus.size(), refused, "round " + round);
        assertEquals(new TreeSet<>(gpus), new TreeSet<>(granted), "round " + round + ": every GPU once");
        assertEquals(gpus.size(), granted.size(), "round " + round);
        held.forEach(GpuClaims.Claim::close);
        assertEquals(List.of(), claims.held());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
