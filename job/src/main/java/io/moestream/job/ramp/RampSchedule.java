package io.moestream.job.ramp;

import java.util.ArrayList;
import java.util.List;

/**
 * A load ramp: phases of constant arrival rate, written {@code SECONDSs@RATE,...}, e.g.
 * {@code 30s@1,60s@12,60s@1} (light, overload, light again; rates in requests per second).
 */
public record RampSchedule(List<Phase> phases) {

  /** @param ratePerSecond requests per second, sent evenly spaced */
  public record Phase(double seconds, double ratePerSecond) {}

  public RampSchedule {
    if (phases.isEmpty()) {
      throw new IllegalArgumentException("a ramp needs at least one phase");
    }
    phases = List.copyOf(phases);
  }

  public static RampSchedule parse(String spec) {
    List<Phase> phases = new ArrayList<>();
    for (String part : spec.split(",")) {
      String p = part.trim();
      int at = p.indexOf("s@");
      if (at <= 0) {
        throw new IllegalArgumentException("ramp phase '" + p + "': expected SECONDSs@RATE, e.g. 30s@2");
      }
      double seconds;
      double rate;
      try {
        seconds = Double.parseDouble(p.substring(0, at));
        rate = Double.parseDouble(p.substring(at + 2));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("ramp phase '" + p + "': not a number");
      }
      if (!(seconds > 0) || !(rate >= 0)) {
        throw new IllegalArgumentException("ramp phase '" + p + "': seconds must be > 0 and rate >= 0");
      }
      phases.add(new Phase(seconds, rate));
    }
    return new RampSchedule(phases);
  }

  public double totalSeconds() {
    return phases.stream().mapToDouble(Phase::seconds).sum();
  }

  /** When phase {@code index} starts, seconds from the start of the ramp. */
  public double phaseStart(int index) {
    double t = 0;
    for (int i = 0; i < index; i++) {
      t += phases.get(i).seconds();
    }
    return t;
  }

  /** The phase running at {@code seconds} (the last one after the end). */
  public int phaseAt(double seconds) {
    double end = 0;
    for (int i = 0; i < phases.size(); i++) {
      end += phases.get(i).seconds();
      if (seconds < end) {
        return i;
      }
    }
    return phases.size() - 1;
  }

  /** The phase with the highest rate: the overload. */
  public int busiestPhase() {
    int best = 0;
    for (int i = 1; i < phases.size(); i++) {
      if (phases.get(i).ratePerSecond() > phases.get(best).ratePerSecond()) {
        best = i;
      }
    }
    return best;
  }

  /** When each request is sent, seconds from the start: evenly spaced within each phase. */
  public double[] sendTimes() {
    List<Double> times = new ArrayList<>();
    double start = 0;
    for (Phase phase : phases) {
      long n = Math.round(phase.seconds() * phase.ratePerSecond());
      for (long i = 0; i < n; i++) {
        times.add(start + i / phase.ratePerSecond());
      }
      start += phase.seconds();
    }
    return times.stream().mapToDouble(Double::doubleValue).toArray();
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder();
    for (Phase p : phases) {
      s.append(s.length() == 0 ? "" : ",").append(trim(p.seconds())).append("s@").append(trim(p.ratePerSecond()));
    }
    return s.toString();
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
