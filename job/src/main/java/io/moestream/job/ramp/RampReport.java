package io.moestream.job.ramp;

import io.moestream.job.ramp.RampRun.Answer;
import io.moestream.job.ramp.RampRun.Result;
import io.moestream.job.ramp.RampRun.Sent;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * What load ramps measured, per second and in summary: arrival rate, throughput (generated tokens
 * emitted per second), mean experts per token of the tokens emitted that second, and end-to-end
 * latency; the overload phase's throughput per policy and its gain over the first (full) policy;
 * whether each run came back to the full model; and, against the first run, whether light-load
 * generations at the full model are identical. Ramps sent with {@link RampTasks} add their answers'
 * accuracy per phase and task ({@link RampAccuracy}).
 */
public final class RampReport {
  public static final String CSV_HEADER =
      "policy,second,arrivals_per_s,throughput_tok_s,experts_per_token,level,latency_p50_ms,latency_p95_ms";

  /**
   * One second of one run. With the job's metrics (samples): throughput is the rate of its generated-token
   * counter, experts per token its gauge, level the policy's; without them, tokens and experts of the
   * generations emitted that second (level -1). Latency: generations emitted that second. NaN: none.
   */
  public record Second(int second, int arrivals, double tokens, double expertsPerToken, int level,
      double latencyP50Ms, double latencyP95Ms) {}

  /**
   * @param overloadThroughput tokens per second emitted during the busiest phase
   * @param overloadExperts mean experts per token of those tokens
   * @param returnedToFullAtS the last time the policy's level was below full quality (with the job's metrics;
   *     else when the last answer below the full model was emitted); NaN when it never was
   * @param lastRequestsFull whether the last requests sent (the final tenth of the last phase) all ran on the full model
   * @param fullAnswers light-phase answers that ran wholly on the full model
   * @param identicalToReference of those, the ones with the same tokens as the reference run (-1 without one)
   * @param saturatedThroughput tokens per second over the seconds the job was saturated (in flight at the cap:
   *     input refused, the backlog in Kafka): its capacity under the policy; NaN without metrics or saturation
   * @param saturatedSeconds how long it was saturated (its backlog took that long to clear)
   */
  public record Summary(String policy, double overloadThroughput, double overloadExperts, double returnedToFullAtS,
      boolean lastRequestsFull, int fullAnswers, int identicalToReference, double saturatedThroughput,
      double saturatedSeconds) {}

  private final List<Result> results;
  private final RampTasks tasks;

  public RampReport(List<Result> results) {
    this(results, null);
  }

  /** @param tasks what the ramps sent ({@link RampTasks#request}), to score their answers; null: fixed prompts */
  public RampReport(List<Result> results, RampTasks tasks) {
    this.results = List.copyOf(results);
    this.tasks = tasks;
  }

  public static List<Second> seconds(Result r) {
    int n = (int) Math.ceil(Math.max(r.schedule().totalSeconds(),
        r.answers().values().stream().mapToDouble(Answer::emittedAtS).max().orElse(0)));
    int[] arrivals = new int[n + 1];
    long[] tokens = new long[n + 1];
    double[] expertTokens = new double[n + 1];
    List<List<Long>> latencies = new ArrayList<>();
    for (int i = 0; i <= n; i++) {
      latencies.add(new ArrayList<>());
    }
    for (Sent s : r.sent()) {
      arrivals[Math.min(n, (int) s.sentAtS())]++;
    }
    for (Answer a : r.answers().values()) {
      int i = Math.max(0, Math.min(n, (int) a.emittedAtS()));
      tokens[i] += a.completionTokens();
      expertTokens[i] += a.expertsMean() * a.completionTokens();
      latencies.get(i).add(a.totalMs());
    }
    double[] rate = new double[n + 1];
    double[] experts = new double[n + 1];
    int[] level = new int[n + 1];
    java.util.Arrays.fill(experts, Double.NaN);
    java.util.Arrays.fill(level, -1);
    List<RampRun.Sample> samples = r.samples();
    for (int j = 1; j < samples.size(); j++) {
      RampRun.Sample a = samples.get(j - 1);
      RampRun.Sample b = samples.get(j);
      int i = (int) Math.floor(b.atS());
      if (i < 0 || i > n || b.atS() <= a.atS()) {
        continue;
      }
      rate[i] = (b.generatedTokens() - a.generatedTokens()) / (b.atS() - a.atS());
      experts[i] = b.expertsPerToken();
      level[i] = b.level();
    }
    boolean sampled = !samples.isEmpty();
    List<Second> out = new ArrayList<>();
    for (int i = 0; i <= n; i++) {
      long[] sorted = latencies.get(i).stream().mapToLong(Long::longValue).sorted().toArray();
      double emittedExperts = tokens[i] == 0 ? Double.NaN : expertTokens[i] / tokens[i];
      out.add(new Second(i, arrivals[i], sampled ? rate[i] : tokens[i], sampled ? experts[i] : emittedExperts,
          level[i], percentile(sorted, 0.5), percentile(sorted, 0.95)));
    }
    return out;
  }

  /** The job's generated-token counter at {@code atS}, interpolated between samples. */
  private static double generatedAt(List<RampRun.Sample> samples, double atS) {
    RampRun.Sample before = samples.get(0);
    for (RampRun.Sample s : samples) {
      if (s.atS() >= atS) {
        if (s.atS() == before.atS()) {
          return s.generatedTokens();
        }
        double f = (atS - before.atS()) / (s.atS() - before.atS());
        return before.generatedTokens() + f * (s.generatedTokens() - before.generatedTokens());
      }
      before = s;
    }
    return before.generatedTokens();
  }

  private static double percentile(long[] sorted, double q) {
    return sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
  }

  public List<Summary> summaries() {
    List<Summary> out = new ArrayList<>();
    Result reference = results.get(0);
    for (Result r : results) {
      RampSchedule schedule = r.schedule();
      int busiest = schedule.busiestPhase();
      double from = schedule.phaseStart(busiest);
      double to = from + schedule.phases().get(busiest).seconds();
      double tokens = 0;
      double expertTokens = 0;
      double lastBelowFull = Double.NaN;
      if (!r.samples().isEmpty()) { // the job's own counters: tokens as generated, not as requests finish
        tokens = generatedAt(r.samples(), to) - generatedAt(r.samples(), from);
        List<RampRun.Sample> samples = r.samples();
        double weight = 0;
        for (int j = 1; j < samples.size(); j++) {
          RampRun.Sample b = samples.get(j);
          double delta = b.generatedTokens() - samples.get(j - 1).generatedTokens();
          if (b.atS() > from && b.atS() <= to && delta > 0 && !Double.isNaN(b.expertsPerToken())) {
            expertTokens += b.expertsPerToken() * delta;
            weight += delta;
          }
          if (b.level() > 0) {
            lastBelowFull = b.atS();
          }
        }
        expertTokens = weight == 0 ? Double.NaN : expertTokens / weight * tokens;
      } else {
        for (Answer a : r.answers().values()) {
          if (a.emittedAtS() >= from && a.emittedAtS() < to) {
            tokens += a.completionTokens();
            expertTokens += a.expertsMean() * a.completionTokens();
          }
          if (a.expertsMin() < r.modelExpertsPerToken() && !(a.emittedAtS() <= lastBelowFull)) {
            lastBelowFull = a.emittedAtS();
          }
        }
      }
      int lastPhase = schedule.phases().size() - 1;
      List<Sent> last = r.sent().stream().filter(s -> s.phase() == lastPhase).toList();
      List<Sent> tail = last.subList(last.size() - Math.max(1, last.size() / 10), last.size());
      boolean lastFull = !last.isEmpty() && tail.stream()
          .allMatch(s -> r.answers().containsKey(s.requestId())
              && r.answers().get(s.requestId()).expertsMin() == r.modelExpertsPerToken());
      int full = 0;
      int identical = 0;
      for (Sent s : r.sent()) {
        Answer a = r.answers().get(s.requestId());
        if (a == null || s.phase() == busiest || a.expertsMin() != r.modelExpertsPerToken()) { // unanswered: incomplete
          continue;
        }
        full++;
        Answer ref = reference.answers().get(s.requestId());
        if (ref != null && ref.tokenIds().equals(a.tokenIds())) {
          identical++;
        }
      }
      double saturatedTokens = 0;
      double saturatedSeconds = 0;
      for (int j = 1; j < r.samples().size(); j++) {
        RampRun.Sample a = r.samples().get(j - 1);
        RampRun.Sample b = r.samples().get(j);
        if (a.inFlight() >= r.maxInFlight() && b.inFlight() >= r.maxInFlight()) {
          saturatedTokens += b.generatedTokens() - a.generatedTokens();
          saturatedSeconds += b.atS() - a.atS();
        }
      }
      out.add(new Summary(r.policy(), tokens / (to - from), tokens == 0 ? Double.NaN : expertTokens / tokens,
          lastBelowFull, lastFull, full, r == reference ? -1 : identical,
          saturatedSeconds == 0 ? Double.NaN : saturatedTokens / saturatedSeconds, saturatedSeconds));
    }
    return out;
  }

  public void writeCsv(Path file) throws IOException {
    StringBuilder csv = new StringBuilder(CSV_HEADER).append('\n');
    for (Result r : results) {
      for (Second s : seconds(r)) {
        csv.append(String.format(Locale.ROOT, "%s,%d,%d,%s,%s,%s,%s,%s%n", r.policy(), s.second(), s.arrivals(),
            num(s.tokens()), num(s.expertsPerToken()), s.level() < 0 ? "" : Integer.toString(s.level()),
            num(s.latencyP50Ms()), num(s.latencyP95Ms())));
      }
    }
    Files.writeString(file, csv);
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
  }

  /**
   * The summary as a markdown table, gains against the first policy; with tasks, an accuracy column
   * (per phase) and the accuracy table per policy, phase and task after it.
   */
  public String markdown() {
    List<Summary> summaries = summaries();
    double base = summaries.get(0).overloadThroughput();
    double saturatedBase = summaries.get(0).saturatedThroughput();
    StringBuilder md = new StringBuilder();
    md.append("| policy | throughput in the overload phase (tok/s) | gain vs ").append(summaries.get(0).policy())
        .append(" | throughput while saturated (tok/s) | gain | saturated for (s) | experts/token in overload")
        .append(" | back to full model at (s) | last requests full | light-load answers at full k | identical to ")
        .append(summaries.get(0).policy()).append(tasks == null ? "" : " | " + RampAccuracy.byPhaseHeader(results.get(0).schedule()))
        .append(" |\n|---|---|---|---|---|---|---|---|---|---|---|").append(tasks == null ? "" : "---|").append('\n');
    for (int i = 0; i < summaries.size(); i++) {
      Summary s = summaries.get(i);
      md.append(String.format(Locale.ROOT, "| %s | %.1f | %.2fx | %.1f | %.2fx | %.0f | %.2f | %s | %s | %d | %s |",
          s.policy(), s.overloadThroughput(), s.overloadThroughput() / base, s.saturatedThroughput(),
          s.saturatedThroughput() / saturatedBase, s.saturatedSeconds(), s.overloadExperts(),
          Double.isNaN(s.returnedToFullAtS()) ? "never left" : String.format(Locale.ROOT, "%.0f", s.returnedToFullAtS()),
          s.lastRequestsFull() ? "yes" : "NO", s.fullAnswers(),
          s.identicalToReference() < 0 ? "(reference)" : s.identicalToReference() + " of " + s.fullAnswers()));
      if (tasks != null) {
        md.append(' ').append(RampAccuracy.byPhaseCell(RampAccuracy.of(results.get(i), tasks))).append(" |");
      }
      md.append('\n');
    }
    for (Result r : results) {
      if (r.incomplete() != null) {
        md.append(String.format(Locale.ROOT, "%n**%s: INCOMPLETE** (%s): %d of %d requests answered; the figures"
            + " above cover what was measured until it stopped.%n", r.policy(), r.incomplete(), r.answers().size(),
            r.sent().size()));
      }
    }
    if (tasks != null) {
      md.append(RampAccuracy.markdown(results, tasks));
    }
    return md.toString();
  }

  /** Four panels over time, one line per policy: arrival rate, throughput, experts per token, p50 latency. */
  public void writeChart(Path file, String title) throws IOException {
    System.setProperty("java.awt.headless", "true");
    String[] titles = {title + ": arrival rate (requests/s, 5 s mean)", "throughput (generated tokens/s, 5 s mean)",
        "routed experts per token (mean over sparse layers, last second)", "end-to-end latency p50 (s)"};
    List<BufferedImage> panels = new ArrayList<>();
    for (int panel = 0; panel < titles.length; panel++) {
      XYChart chart = new XYChartBuilder().width(900).height(260).title(titles[panel]).xAxisTitle("time (s)").build();
      chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
      chart.getStyler().setChartBackgroundColor(Color.WHITE);
      chart.getStyler().setMarkerSize(3);
      for (Result r : results) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (Second s : seconds(r)) {
          double v = switch (panel) {
            case 0 -> s.arrivals();
            case 1 -> s.tokens();
            case 2 -> s.expertsPerToken();
            default -> s.latencyP50Ms() / 1000.0;
          };
          if (!Double.isNaN(v)) {
            x.add((double) s.second());
            y.add(v);
          }
        }
        if (panel <= 1) {
          y = trailingMean(y, 5); // steps last up to a second: per-second counts alternate 0 and 2x
        }
        if (!x.isEmpty()) {
          chart.addSeries(r.policy(), x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        if (panel == 0) {
          break; // the same arrivals for every run
        }
      }
      panels.add(BitmapEncoder.getBufferedImage(chart));
    }
    int width = panels.stream().mapToInt(BufferedImage::getWidth).max().orElse(1);
    int height = panels.stream().mapToInt(BufferedImage::getHeight).sum();
    BufferedImage all = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = all.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    int y = 0;
    for (BufferedImage p : panels) {
      g.drawImage(p, 0, y, null);
      y += p.getHeight();
    }
    g.dispose();
    ImageIO.write(all, "png", file.toFile());
  }

  private static List<Double> trailingMean(List<Double> values, int window) {
    List<Double> out = new ArrayList<>(values.size());
    double sum = 0;
    for (int i = 0; i < values.size(); i++) {
      sum += values.get(i);
      if (i >= window) {
        sum -= values.get(i - window);
      }
      out.add(sum / Math.min(i + 1, window));
    }
    return out;
  }

  @Override
  public String toString() {
    return Arrays.toString(summaries().toArray());
  }
}
