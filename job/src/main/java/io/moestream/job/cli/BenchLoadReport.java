package io.moestream.job.cli;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** bench-load's results as CSV, a markdown table (the shape of the paper's Tables 8 and 9) and a PNG chart. */
final class BenchLoadReport {
  static final String CSV_HEADER = "policy,concurrency,throughput_tok_s,gain_vs_full";
  private final String fullPolicy;
  private final List<BenchLoadCommand.Result> results;
  private final List<String> policies = new ArrayList<>();
  private final TreeSet<Integer> concurrencies = new TreeSet<>();
  private final Map<String, BenchLoadCommand.Result> byKey = new LinkedHashMap<>();

  BenchLoadReport(String fullPolicy, List<BenchLoadCommand.Result> results) {
    this.fullPolicy = fullPolicy;
    this.results = results;
    for (BenchLoadCommand.Result r : results) {
      if (!policies.contains(r.policy())) {
        policies.add(r.policy());
      }
      concurrencies.add(r.concurrency());
      byKey.put(r.policy() + "@" + r.concurrency(), r);
    }
  }

  /** Throughput over the full model's at the same concurrency, minus 1 (0.10 = 10% faster). */
  double gain(BenchLoadCommand.Result r) {
    BenchLoadCommand.Result full = byKey.get(fullPolicy + "@" + r.concurrency());
    return full == null ? Double.NaN : r.throughputTokS() / full.throughputTokS() - 1;
  }

  void writeCsv(Path file) throws IOException {
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file))) {
      w.println(CSV_HEADER);
      for (BenchLoadCommand.Result r : results) {
        w.printf(Locale.ROOT, "%s,%d,%.3f,%.4f%n", csvField(r.policy()), r.concurrency(), r.throughputTokS(), gain(r));
      }
    }
  }

  private static String csvField(String s) {
    return s.contains(",") ? "\"" + s + "\"" : s;
  }

  /** One row per policy, one column per concurrency: tok/s and the gain over the full model. */
  String markdown(String caption) {
    StringBuilder md = new StringBuilder();
    md.append("Output throughput (tok/s) and gain over ").append(fullPolicy).append(" - ").append(caption).append("\n\n");
    md.append("| policy |");
    concurrencies.forEach(c -> md.append(" C=").append(c).append(" |"));
    md.append(" experts/token |\n|---|");
    concurrencies.forEach(c -> md.append("---:|"));
    md.append("---:|\n");
    for (String p : policies) {
      md.append("| `").append(p).append("` |");
      double experts = 0;
      int n = 0;
      for (int c : concurrencies) {
        BenchLoadCommand.Result r = byKey.get(p + "@" + c);
        if (r == null) {
          md.append(" |");
          continue;
        }
        experts += r.expertsPerToken();
        n++;
        md.append(String.format(Locale.ROOT, " %.1f", r.throughputTokS()));
        if (!p.equals(fullPolicy)) {
          md.append(String.format(Locale.ROOT, " (%+.1f%%)", 100 * gain(r)));
        }
        md.append(" |");
      }
      md.append(String.format(Locale.ROOT, " %.2f |%n", n == 0 ? Double.NaN : experts / n));
    }
    md.append("\nDistinct experts read per sparse layer per decode step (mean)\n\n| policy |");
    concurrencies.forEach(c -> md.append(" C=").append(c).append(" |"));
    md.append("\n|---|");
    concurrencies.forEach(c -> md.append("---:|"));
    md.append("\n");
    for (String p : policies) {
      md.append("| `").append(p).append("` |");
      for (int c : concurrencies) {
        BenchLoadCommand.Result r = byKey.get(p + "@" + c);
        md.append(r == null ? " |" : String.format(Locale.ROOT, " %.1f |", r.decodeDistinctExperts()));
      }
      md.append("\n");
    }
    return md.toString();
  }

  /** Throughput and gain vs concurrency, side by side, one line per policy. */
  void writeChart(Path file, String title) throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYChart throughput = chart(title, "throughput (tok/s)");
    XYChart gain = chart("gain over " + fullPolicy, "gain (%)");
    for (String p : policies) {
      List<Double> x = new ArrayList<>();
      List<Double> t = new ArrayList<>();
      List<Double> g = new ArrayList<>();
      for (int c : concurrencies) {
        BenchLoadCommand.Result r = byKey.get(p + "@" + c);
        if (r != null) {
          x.add(Math.log(c) / Math.log(2)); // log2 axis, labelled with C itself
          t.add(r.throughputTokS());
          g.add(100 * gain(r));
        }
      }
      if (x.isEmpty()) {
        continue;
      }
      XYSeries ts = throughput.addSeries(p, x, t);
      ts.setMarker(SeriesMarkers.CIRCLE);
      XYSeries gs = gain.addSeries(p, x, g);
      gs.setMarker(SeriesMarkers.CIRCLE);
    }
    BufferedImage left = BitmapEncoder.getBufferedImage(throughput);
    BufferedImage right = BitmapEncoder.getBufferedImage(gain);
    BufferedImage both = new BufferedImage(left.getWidth() + right.getWidth(), Math.max(left.getHeight(), right.getHeight()),
        BufferedImage.TYPE_INT_RGB);
    Graphics2D g2 = both.createGraphics();
    g2.setColor(Color.WHITE);
    g2.fillRect(0, 0, both.getWidth(), both.getHeight());
    g2.drawImage(left, 0, 0, null);
    g2.drawImage(right, left.getWidth(), 0, null);
    g2.dispose();
    ImageIO.write(both, "png", file.toFile());
  }

  private static XYChart chart(String title, String yTitle) {
    XYChart chart = new XYChartBuilder().width(640).height(420).title(title).xAxisTitle("concurrency (requests in flight)")
        .yAxisTitle(yTitle).build();
    chart.setCustomXAxisTickLabelsFormatter(
        log2 -> Math.abs(log2 - Math.rint(log2)) < 1e-6 ? String.valueOf(Math.round(Math.pow(2, log2))) : "");
    chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    return chart;
  }
}
