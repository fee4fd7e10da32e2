package io.moestream.job.soak;

import io.moestream.job.soak.SoakRun.Result;
import io.moestream.job.soak.SoakRun.Sent;
import io.moestream.job.soak.SoakSampler.Sample;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * The soak's accounting and verdict: each request answered exactly once (a generation by request id
 * or a dead letter at its input offset), each bad record dead-lettered exactly once (by input
 * offset), no restart, checkpoints completing throughout; heap after GC at start, middle and end with
 * its trend over the second half. The summary is markdown, the samples CSV, the chart a PNG.
 */
public final class SoakReport {
  public static final String CSV_HEADER = "second,heap_after_gc_mb,heap_used_mb,heap_after_pool_collections_mb,gcs,"
      + "checkpoints_completed,checkpoints_failed,restarts,generated_tokens,requests_in,in_flight,sent,read_back";

  private final Result r;
  final long answeredOnce;
  final long missing;
  final long duplicated;
  final long requestsDeadLettered;
  final long badOnce;
  final long badMissing;
  final long badDuplicated;
  /** Generations whose request id was never sent (a bad record answered as a request, or a stray id). */
  final long unexpected;
  final long restarts;
  final long checkpointsCompleted;
  final long checkpointsFailed;
  final double longestGapS;

  public SoakReport(Result r) {
    this.r = r;
    long once = 0;
    long miss = 0;
    long dup = 0;
    long dead = 0;
    for (Map.Entry<String, Sent> e : r.good().entrySet()) {
      int generations = r.generationsById().getOrDefault(e.getKey(), 0);
      int deadLetters = r.deadLettersBySource().getOrDefault(e.getValue().source(), 0);
      dead += deadLetters > 0 ? 1 : 0;
      int answers = generations + deadLetters;
      once += answers == 1 ? 1 : 0;
      miss += answers == 0 ? 1 : 0;
      dup += answers > 1 ? 1 : 0;
    }
    long bOnce = 0;
    long bMiss = 0;
    long bDup = 0;
    for (Sent s : r.bad()) {
      int n = r.deadLettersBySource().getOrDefault(s.source(), 0);
      bOnce += n == 1 ? 1 : 0;
      bMiss += n == 0 ? 1 : 0;
      bDup += n > 1 ? 1 : 0;
    }
    answeredOnce = once;
    missing = miss;
    duplicated = dup;
    requestsDeadLettered = dead;
    badOnce = bOnce;
    badMissing = bMiss;
    badDuplicated = bDup;
    unexpected = r.generationsById().keySet().stream().filter(id -> !r.good().containsKey(id)).count();
    Sample first = r.samples().isEmpty() ? null : r.samples().get(0);
    Sample last = r.samples().isEmpty() ? null : r.samples().get(r.samples().size() - 1);
    restarts = last == null ? -1 : last.restarts();
    // by acknowledgement time: sample-to-sample differences would miss the phase's edges
    double from = r.startMs() / 1000.0 + r.soakFromS();
    double to = r.startMs() / 1000.0 + r.soakToS();
    checkpointsCompleted = r.checkpoints().values().stream().filter(ms -> ms / 1000.0 > from && ms / 1000.0 <= to)
        .count();
    checkpointsFailed = last == null ? -1 : last.checkpointsFailed() - first.checkpointsFailed();
    longestGapS = longestGap();
  }

  /** The samples of the overload phase. */
  private List<Sample> soakSamples() {
    return r.samples().stream().filter(s -> s.atS() >= r.soakFromS() && s.atS() <= r.soakToS()).toList();
  }

  /** The longest time without a completed checkpoint in the overload phase, its edges included. */
  private double longestGap() {
    double from = r.startMs() / 1000.0 + r.soakFromS();
    double to = r.startMs() / 1000.0 + r.soakToS();
    double previous = from;
    double gap = 0;
    for (long ackMs : r.checkpoints().values().stream().sorted().toList()) {
      double t = ackMs / 1000.0;
      if (t > from && t <= to) {
        gap = Math.max(gap, t - previous);
        previous = t;
      }
    }
    return Math.max(gap, to - previous);
  }

  /** Why the soak failed, one line each; empty when it passed. */
  public List<String> failures() {
    List<String> out = new ArrayList<>();
    if (missing > 0 || duplicated > 0) {
      out.add(missing + " requests not answered, " + duplicated + " answered more than once");
    }
    if (badMissing > 0 || badDuplicated > 0) {
      out.add(badMissing + " bad records not dead-lettered, " + badDuplicated + " dead-lettered more than once");
    }
    if (unexpected > 0) {
      out.add(unexpected + " generations for request ids never sent as requests");
    }
    if (r.sendFailures() > 0 || r.unreadable() > 0) {
      out.add(r.sendFailures() + " sends failed, " + r.unreadable() + " output records did not decode");
    }
    if (restarts != 0) {
      out.add("the job restarted " + restarts + " times (-1: unknown)");
    }
    double interval = r.config().flink().checkpointIntervalMs() / 1000.0;
    if (longestGapS > 10 * interval) {
      out.add(String.format(Locale.ROOT, "checkpoints stopped completing: %.1f s without one (interval %.1f s)",
          longestGapS, interval));
    }
    if (!r.endRead()) {
      out.add("the output topics could not be read to their end");
    }
    return out;
  }

  /** Heap after GC (MB) at the sample nearest {@code atS}. */
  private double heapAt(double atS) {
    Sample best = null;
    for (Sample s : r.samples()) {
      if (s.heapAfterGcMb() >= 0 && (best == null || Math.abs(s.atS() - atS) < Math.abs(best.atS() - atS))) {
        best = s;
      }
    }
    return best == null ? Double.NaN : best.heapAfterGcMb();
  }

  /** Least-squares slope of heap after GC over the second half of the overload phase, MB per minute. */
  double heapTrendMbPerMinute() {
    double mid = (r.soakFromS() + r.soakToS()) / 2;
    List<Sample> half = soakSamples().stream().filter(s -> s.atS() >= mid && s.heapAfterGcMb() >= 0).toList();
    if (half.size() < 2) {
      return Double.NaN;
    }
    double mx = half.stream().mapToDouble(Sample::atS).average().orElse(0);
    double my = half.stream().mapToDouble(Sample::heapAfterGcMb).average().orElse(0);
    double sxy = 0;
    double sxx = 0;
    for (Sample s : half) {
      sxy += (s.atS() - mx) * (s.heapAfterGcMb() - my);
      sxx += (s.atS() - mx) * (s.atS() - mx);
    }
    return sxx == 0 ? Double.NaN : sxy / sxx * 60;
  }

  public String markdown() {
    StringBuilder md = new StringBuilder();
    SoakRun.Settings s = r.settings();
    md.append("| measure | value |\n|---|---|\n");
    row(md, "capacity (requests/s, in-flight window full)", Double.isNaN(r.capacity()) ? "not measured (--rate)"
        : fmt("%.2f", r.capacity()));
    row(md, "soak rate (requests/s)", fmt("%.2f for %.0f s (%s), deadline %d s, %d max new tokens", r.rate(),
        r.soakToS() - r.soakFromS(), Double.isNaN(r.capacity()) ? "given" : fmt("%.1fx", r.rate() / r.capacity()),
        s.deadline().toSeconds(), s.maxNewTokens()));
    row(md, "requests sent (capacity phase included)", Long.toString(r.good().size()));
    row(md, "answered exactly once", answeredOnce + " (" + requestsDeadLettered + " of them dead-lettered)");
    row(md, "missing / duplicated", missing + " / " + duplicated);
    row(md, "finish reasons", r.outcomes().toString().replaceAll("[{}]", ""));
    row(md, "bad records sent", r.bad().size() + " (" + String.join(", ", PoisonRecords.KINDS) + ", in rotation)");
    row(md, "bad records dead-lettered exactly once", Long.toString(badOnce));
    row(md, "bad records missing / duplicated", badMissing + " / " + badDuplicated);
    row(md, "unexpected generations / failed sends / undecodable output", unexpected + " / " + r.sendFailures()
        + " / " + r.unreadable());
    row(md, "all accounted for at", Double.isNaN(r.drainedAtS()) ? "never (drain timed out)"
        : fmt("%.0f s (%.0f s after the last send)", r.drainedAtS(), r.drainedAtS() - r.soakToS()));
    row(md, "checkpoints completed / failed in the soak", checkpointsCompleted + " / " + checkpointsFailed);
    row(md, "longest time without a completed checkpoint", fmt("%.1f s (interval %.1f s)", longestGapS,
        r.config().flink().checkpointIntervalMs() / 1000.0));
    row(md, "restarts", Long.toString(restarts));
    row(md, "heap after GC at start / middle / end (MB)", fmt("%.0f / %.0f / %.0f", heapAt(r.soakFromS()),
        heapAt((r.soakFromS() + r.soakToS()) / 2), heapAt(r.soakToS())));
    row(md, "heap after GC trend, second half (MB/min)", fmt("%+.2f", heapTrendMbPerMinute()));
    List<String> failures = failures();
    row(md, "verdict", failures.isEmpty() ? "PASS" : "FAIL: " + String.join("; ", failures));
    return md.toString();
  }

  private static void row(StringBuilder md, String name, String value) {
    md.append("| ").append(name).append(" | ").append(value).append(" |\n");
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  public void writeCsv(Path file) throws IOException {
    StringBuilder csv = new StringBuilder(CSV_HEADER).append('\n');
    for (Sample s : r.samples()) {
      csv.append(fmt("%.1f,%.1f,%.1f,%.1f,%d,%d,%d,%d,%d,%d,%d,%d,%d%n", s.atS(), s.heapAfterGcMb(), s.heapUsedMb(),
          s.oldAfterFullGcMb(), s.gcs(), s.checkpointsCompleted(), s.checkpointsFailed(), s.restarts(),
          s.generatedTokens(), s.requestsIn(), s.inFlight(), s.sent(), s.read()));
    }
    Files.writeString(file, csv);
  }

  /** Three panels over time: heap (after GC and in use), checkpoints completed, throughput. */
  public void writeChart(Path file) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<Sample> samples = r.samples();
    List<BufferedImage> panels = new ArrayList<>();
    String[] titles = {"heap (MB): after the last GC, and in use", "checkpoints completed (cumulative)",
        "per second between samples: generated tokens, requests read, records sent"};
    for (int panel = 0; panel < titles.length; panel++) {
      XYChart chart = new XYChartBuilder().width(900).height(260).title(titles[panel]).xAxisTitle("time (s)").build();
      chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
      chart.getStyler().setChartBackgroundColor(Color.WHITE);
      chart.getStyler().setMarkerSize(2);
      String[] names = panel == 0 ? new String[] {"after GC", "in use"} : panel == 1 ? new String[] {"completed"}
          : new String[] {"tokens/s", "requests read/s", "sent/s"};
      for (int k = 0; k < names.length; k++) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (int i = panel == 2 ? 1 : 0; i < samples.size(); i++) {
          Sample s = samples.get(i);
          double v = value(panel, k, s, i == 0 ? null : samples.get(i - 1));
          if (!Double.isNaN(v) && v >= 0) {
            x.add(s.atS());
            y.add(v);
          }
        }
        if (!x.isEmpty()) {
          chart.addSeries(names[k], x, y);
        }
      }
      panels.add(BitmapEncoder.getBufferedImage(chart));
    }
    BufferedImage all = new BufferedImage(900, panels.stream().mapToInt(BufferedImage::getHeight).sum(),
        BufferedImage.TYPE_INT_RGB);
    Graphics2D g = all.createGraphics();
    int y = 0;
    for (BufferedImage p : panels) {
      g.drawImage(p, 0, y, null);
      y += p.getHeight();
    }
    g.dispose();
    ImageIO.write(all, "png", file.toFile());
  }

  private static double value(int panel, int series, Sample s, Sample previous) {
    if (panel == 0) {
      return series == 0 ? s.heapAfterGcMb() : s.heapUsedMb();
    }
    if (panel == 1) {
      return s.checkpointsCompleted();
    }
    double dt = s.atS() - previous.atS();
    return dt <= 0 ? Double.NaN : switch (series) {
      case 0 -> (s.generatedTokens() - previous.generatedTokens()) / dt;
      case 1 -> (s.requestsIn() - previous.requestsIn()) / dt;
      default -> (s.sent() - previous.sent()) / dt;
    };
  }
}
