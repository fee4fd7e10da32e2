package io.moestream.job.ramp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.job.ramp.RampAccuracy.PhaseAccuracy;
import io.moestream.job.ramp.RampRun.Answer;
import io.moestream.job.ramp.RampRun.Sent;
import io.moestream.schemas.InferenceRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scoring a tasks ramp on hand-made records: which answer counts where, the interval, the file's errors. */
class RampAccuracyTest {
  @TempDir Path tmp;

  private RampTasks tasks() throws Exception {
    Path file = tmp.resolve("tasks.jsonl");
    Files.writeString(file, """
        {"task": "add", "prompt": "What is 1 + 2?", "answer": "3"}
        {"task": "add", "prompt": "What is 2 + 2?", "answer": "4"}

        {"task": "copy", "prompt": "Copy: ab", "answer": "ab"}
        """);
    return RampTasks.read(file);
  }

  private static Answer answer(int n, String text, int tokens, double expertsMean) {
    return new Answer("ramp-" + n, n, n, tokens, (int) expertsMean, expertsMean, 5, 10, List.of(), text);
  }

  @Test
  void scoresEachAnswerInThePhaseItWasSentAndByTask() throws Exception {
    RampTasks tasks = tasks();
    RampSchedule schedule = RampSchedule.parse("2s@1,1s@4,2s@1");
    // items in file order: n=1 add(3), 2 add(4), 3 copy(ab), 4 add(3), 5 add(4), 6 copy, 7 add(3), 8 add(4)
    int[] phaseOf = {0, 0, 0, 1, 1, 1, 1, 2, 2};
    List<Sent> sent = new java.util.ArrayList<>();
    for (int n = 1; n <= 8; n++) {
      sent.add(new Sent("ramp-" + n, n / 2.0, phaseOf[n]));
    }
    Map<String, Answer> answers = new LinkedHashMap<>();
    for (Answer a : List.of(answer(1, " 3 ", 1, 2), answer(2, "5", 1, 2), answer(3, "ab", 2, 2),
        answer(4, "3", 1, 1), /* 5 unanswered */ answer(6, "AB", 1, 1), answer(7, "3\n", 1, 2),
        answer(8, "4", 3, 2))) {
      answers.put(a.requestId(), a);
    }
    RampRun.Result run = new RampRun.Result("adaptive", 2, 4, schedule, sent, answers, List.of(), "stopped early");

    List<PhaseAccuracy> rows = RampAccuracy.of(run, tasks);
    assertEquals(4, rows.size(), "three phases and the whole ramp");
    assertEquals(List.of("light 2s@1", "overload 1s@4", "light-after 2s@1", "all phases"),
        rows.stream().map(PhaseAccuracy::label).toList());

    PhaseAccuracy light = rows.get(0);
    assertEquals(2, light.sent());
    assertEquals(new Accuracy(1, 2), light.overall()); // " 3 " trimmed is right, "5" wrong
    assertEquals(Map.of("add", new Accuracy(1, 2), "copy", Accuracy.NONE), light.byTask());
    assertEquals(2.0, light.expertsPerToken(), 1e-12);

    PhaseAccuracy overload = rows.get(1);
    assertEquals(4, overload.sent(), "the unanswered request is sent, not scored");
    assertEquals(new Accuracy(2, 3), overload.overall());
    assertEquals(Map.of("add", new Accuracy(1, 1), "copy", new Accuracy(1, 2)), overload.byTask()); // "AB" != "ab"
    assertEquals((2 * 2 + 1 + 1) / 4.0, overload.expertsPerToken(), 1e-12, "weighted by generated tokens");

    PhaseAccuracy after = rows.get(2);
    assertEquals(new Accuracy(2, 2), after.overall());
    assertEquals((2 + 3 * 2) / 4.0, after.expertsPerToken(), 1e-12);

    PhaseAccuracy all = rows.get(3);
    assertEquals(RampAccuracy.ALL_PHASES, all.phase());
    assertEquals(8, all.sent());
    assertEquals(new Accuracy(5, 7), all.overall());
    assertEquals(Map.of("add", new Accuracy(4, 5), "copy", new Accuracy(1, 2)), all.byTask());
    assertEquals(List.of("add", "copy"), List.copyOf(all.byTask().keySet()), "tasks in file order");

    String md = new RampReport(List.of(run), tasks).markdown();
    assertTrue(md.contains("| task accuracy (light / overload / light-after) |"), md);
    assertTrue(md.contains(" | 0.50 / 0.67 / 1.00 |\n"), md);
    assertTrue(md.contains("| adaptive | all phases | 8 | 7 | 0.71 (5/7) [0.36, 0.92] | 1.80 | 0.80 (4/5) [0.38, 0.96]"
        + " | 0.50 (1/2) [0.09, 0.91] |"), md);
    assertTrue(md.contains("| adaptive | light 2s@1 | 2 | 2 | 0.50 (1/2) [0.09, 0.91] | 2.00 | 0.50 (1/2) [0.09, 0.91] | - |"),
        md);
    assertFalse(new RampReport(List.of(run)).markdown().contains("accuracy"), "no tasks, no accuracy");
  }

  @Test
  void wilsonIntervalMatchesTheClosedForm() {
    // 5 of 10: the textbook (0.2366, 0.7634); 0 of 10: [0, z^2 / (n + z^2)]
    assertEquals(0.2366, new Accuracy(5, 10).wilsonLow(), 1e-4);
    assertEquals(0.7634, new Accuracy(5, 10).wilsonHigh(), 1e-4);
    double z2 = Accuracy.Z95 * Accuracy.Z95;
    assertEquals(0.0, new Accuracy(0, 10).wilsonLow(), 0.0);
    assertEquals(z2 / (10 + z2), new Accuracy(0, 10).wilsonHigh(), 1e-12);
    assertEquals(1 - z2 / (10 + z2), new Accuracy(10, 10).wilsonLow(), 1e-12);
    assertEquals(1.0, new Accuracy(10, 10).wilsonHigh(), 1e-12);
    assertTrue(Double.isNaN(Accuracy.NONE.rate()) && Double.isNaN(Accuracy.NONE.wilsonLow()));
    assertThrows(IllegalArgumentException.class, () -> new Accuracy(3, 2));
  }

  @Test
  void exactMatchTrimsOnlyTheGeneratedText() {
    assertTrue(Accuracy.isCorrect("  694\n", "694"));
    assertFalse(Accuracy.isCorrect("694.", "694"));
    assertFalse(Accuracy.isCorrect("0694", "694"));
    assertFalse(Accuracy.isCorrect("apple  pear", "apple pear"));
    assertFalse(Accuracy.isCorrect("Apple", "apple"));
    assertTrue(Accuracy.isCorrect("", ""));
  }

  @Test
  void requestsCarryTheItemsInFileOrderAsGreedyChat() throws Exception {
    RampTasks tasks = tasks();
    InferenceRequest r = tasks.request(4, 12);
    assertEquals("ramp-4", r.getRequestId());
    assertEquals(null, r.getPrompt());
    assertEquals("user", r.getMessages().get(0).getRole());
    assertEquals("What is 1 + 2?", r.getMessages().get(0).getContent(), "request 4 carries item (4 - 1) mod 3 = 0");
    assertEquals(1, r.getMessages().size());
    assertEquals(0f, r.getSampling().getTemperature());
    assertEquals(12, r.getMaxNewTokens());
    assertEquals("ab", tasks.itemOf("ramp-3").answer());
    assertEquals("ab", tasks.itemOf("ramp-6").answer());
    assertThrows(IllegalArgumentException.class, () -> tasks.itemOf("ramp-warm-up"));
  }

  @Test
  void aBadLineFailsNamingTheFileLineAndField() throws Exception {
    Path file = tmp.resolve("bad.jsonl");
    Files.writeString(file, "{\"task\": \"add\", \"prompt\": \"What is 1 + 2?\", \"answer\": \"3\"}\n"
        + "{\"task\": \"add\", \"prompt\": \"What is 1 + 3?\", \"answer\": 4}\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RampTasks.read(file));
    assertTrue(e.getMessage().contains("bad.jsonl:2: \"answer\" must be a string, found 4"), e.getMessage());
    Files.writeString(file, "\n");
    e = assertThrows(IllegalArgumentException.class, () -> RampTasks.read(file));
    assertTrue(e.getMessage().contains("no task items"), e.getMessage());
    Files.writeString(file, "[1, 2]\n");
    e = assertThrows(IllegalArgumentException.class, () -> RampTasks.read(file));
    assertTrue(e.getMessage().contains("bad.jsonl:1: expected a JSON object"), e.getMessage());
  }
}
