package io.moestream.job.corpus;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The files an {@code --input} names: one file, every file under a directory, or the files a glob
 * matches ({@code data/*.jsonl}, {@code data/**}{@code /part-*}). Hidden files and anything under the
 * output directory are left out; the order is by name, so reruns see the same files in the same order.
 */
public final class CorpusFiles {
  /** A file to read and the name its records' keys and dead letters carry (relative to the input). */
  public record InputFile(Path path, String name) implements Serializable {}

  private CorpusFiles() {}

  public static List<InputFile> resolve(String input, Path outputDir) {
    Path output = outputDir.toAbsolutePath().normalize();
    List<InputFile> files = new ArrayList<>();
    if (isGlob(input)) {
      Path base = globBase(input);
      String pattern = base.toString().isEmpty() ? input : base.relativize(Path.of(input)).toString();
      Path root = base.toString().isEmpty() ? Path.of("") : base;
      PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
      walk(root.toAbsolutePath().normalize(), output, rel -> matcher.matches(rel), files);
      if (files.isEmpty()) {
        throw new IllegalArgumentException("--input " + input + ": no file matches");
      }
      return files;
    }
    Path path = Path.of(input).toAbsolutePath().normalize();
    if (Files.isRegularFile(path)) {
      return List.of(new InputFile(path, path.getFileName().toString()));
    }
    if (!Files.isDirectory(path)) {
      throw new IllegalArgumentException("--input " + input + ": no such file or directory");
    }
    walk(path, output, rel -> true, files);
    if (files.isEmpty()) {
      throw new IllegalArgumentException("--input " + input + ": the directory holds no files");
    }
    return files;
  }

  private interface Filter {
    boolean accept(Path relative);
  }

  private static void walk(Path root, Path output, Filter filter, List<InputFile> into) {
    if (!Files.isDirectory(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.filter(Files::isRegularFile)
          .filter(p -> !p.toAbsolutePath().normalize().startsWith(output))
          .filter(p -> !hidden(root.relativize(p)))
          .filter(p -> filter.accept(root.relativize(p)))
          .sorted(Comparator.comparing(p -> root.relativize(p).toString()))
          .forEach(p -> into.add(new InputFile(p, root.relativize(p).toString().replace('\\', '/'))));
    } catch (IOException e) {
      throw new UncheckedIOException("--input: cannot list " + root + ": " + e.getMessage(), e);
    }
  }

  private static boolean hidden(Path relative) {
    for (Path part : relative) {
      if (part.toString().startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  static boolean isGlob(String input) {
    return input.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
  }

  /** The leading folders of a glob that hold no glob characters ("" when the first part has some). */
  private static Path globBase(String input) {
    Path path = Path.of(input);
    Path base = path.getRoot() == null ? Path.of("") : path.getRoot();
    for (Path part : path) {
      if (isGlob(part.toString())) {
        break;
      }
      base = base.resolve(part);
    }
    return base;
  }
}
