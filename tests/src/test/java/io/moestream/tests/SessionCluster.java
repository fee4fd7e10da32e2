package io.moestream.tests;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A real Flink standalone session cluster: a JobManager and a TaskManager, each its own JVM, started
 * the way Flink's {@code bin/jobmanager.sh} and {@code bin/taskmanager.sh} start them, on a lib/ of
 * Flink's module jars (a distribution's flink-dist is not on Maven Central) and log4j. Nothing of
 * moestream is on their classpath: the job arrives as an uploaded jar. All files (conf/, lib/, logs,
 * temp dirs) live under one folder of the build directory.
 */
final class SessionCluster implements AutoCloseable {
  /** What a Flink distribution's lib/ holds, as groupId:artifactId; taken from this JVM's classpath. */
  static final List<String> FLINK_LIB = List.of(
      "org.apache.flink:flink-annotations", "org.apache.flink:flink-clients", "org.apache.flink:flink-connector-base",
      "org.apache.flink:flink-connector-datagen", "org.apache.flink:flink-core", "org.apache.flink:flink-core-api",
      "org.apache.flink:flink-datastream", "org.apache.flink:flink-datastream-api",
      "org.apache.flink:flink-file-sink-common", "org.apache.flink:flink-hadoop-fs",
      "org.apache.flink:flink-metrics-core", "org.apache.flink:flink-queryable-state-client-java",
      "org.apache.flink:flink-rpc-akka-loader", "org.apache.flink:flink-rpc-core", "org.apache.flink:flink-runtime",
      "org.apache.flink:flink-runtime-web", "org.apache.flink:flink-shaded-asm-9", "org.apache.flink:flink-shaded-guava",
      "org.apache.flink:flink-shaded-jackson", "org.apache.flink:flink-shaded-netty",
      "org.apache.flink:flink-shaded-zookeeper-3", "org.apache.flink:flink-streaming-java",
      // what flink-dist bundles besides Flink's modules
      "com.esotericsoftware:kryo", "com.esotericsoftware:minlog", "com.esotericsoftware:reflectasm",
      "org.objenesis:objenesis", "org.snakeyaml:snakeyaml-engine", "org.apache.commons:commons-lang3",
      "org.apache.commons:commons-text", "org.apache.commons:commons-compress", "org.apache.commons:commons-math3",
      "commons-collections:commons-collections", "commons-io:commons-io", "commons-cli:commons-cli",
      "tools.profiler:async-profiler", "at.yawk.lz4:lz4-java", "com.google.code.findbugs:jsr305",
      "org.slf4j:slf4j-api",
      // a distribution ships it in plugins/ (or opt/); here on the classpath for the Prometheus reporter
      "org.apache.flink:flink-metrics-prometheus");

  /** The JDK 17 flags a Flink 2.2 distribution's config.yaml sets in {@code env.java.opts.all}. */
  static final String JAVA17_OPTS = String.join(" ",
      "--add-exports=java.base/sun.net.util=ALL-UNNAMED", "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
      "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
      "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
      "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens=java.base/java.text=ALL-UNNAMED", "--add-opens=java.base/java.time=ALL-UNNAMED",
      "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");
  /** What moestream appends to that line for every Flink JVM: the engine's Vector API. */
  static final String MOESTREAM_OPTS = "--add-modules=jdk.incubator.vector";
  /** {@code env.java.opts.all} of the cluster: the distribution's flags, then moestream's. */
  static final String JAVA_OPTS_ALL = JAVA17_OPTS + " " + MOESTREAM_OPTS;

  private static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";

  final Path home;
  final int restPort;
  final List<Integer> prometheusPorts;
  private final List<String> extraConfig;
  private final List<Process> processes = new ArrayList<>();
  private Process taskManager;

  private SessionCluster(Path home, int restPort, List<Integer> prometheusPorts, List<String> extraConfig) {
    this.home = home;
    this.restPort = restPort;
    this.prometheusPorts = prometheusPorts;
    this.extraConfig = extraConfig;
  }

  /**
   * Lays out {@code home} (lib/, conf/, log/), starts the JobManager, then one TaskManager with one
   * slot, and returns once the TaskManager has registered.
   *
   * @param extraLib jars to add to lib/ (the logging jars, copied there by Maven)
   * @param extraConfig lines appended to conf/config.yaml ({@code key: value})
   */
  static SessionCluster start(Path home, Path extraLib, Duration timeout, String... extraConfig) throws Exception {
    SessionCluster cluster = new SessionCluster(home, freePort(), List.of(freePort(), freePort()), List.of(extraConfig));
    try {
      cluster.layout(extraLib);
      cluster.launch("jobmanager", "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
          "GET_JM_RESOURCE_PARAMS");
      SessionClusterRest rest = cluster.rest();
      rest.awaitReady(timeout, 0, cluster::logTails);
      cluster.startTaskManager("taskmanager");
      rest.awaitReady(timeout, 1, cluster::logTails);
      return cluster;
    } catch (Exception | AssertionError e) {
      cluster.close();
      throw e;
    }
  }

  /** Starts a TaskManager that logs to log/{@code name}.log; it registers with the JobManager on its own. */
  void startTaskManager(String name) throws Exception {
    taskManager = launch(name, "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", "GET_TM_RESOURCE_PARAMS");
  }

  /**
   * Kills the TaskManager last started with SIGKILL ({@link Process#destroyForcibly} is {@code kill -9}
   * on Unix): no shutdown hook runs, no task is cancelled, no transaction is aborted.
   */
  void killTaskManager() throws InterruptedException {
    taskManager.destroyForcibly();
    if (!taskManager.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("TaskManager " + taskManager.pid() + " still alive 30 s after SIGKILL");
    }
  }

  /** The process logs (log4j) of the JobManager and every TaskManager started, by file name. */
  List<Path> processLogs() throws IOException {
    try (var files = Files.list(home.resolve("log"))) {
      return files.filter(p -> p.getFileName().toString().matches("(jobmanager|taskmanager).*\\.log")).sorted().toList();
    }
  }

  SessionClusterRest rest() {
    return new SessionClusterRest("http://127.0.0.1:" + restPort);
  }

  private void layout(Path extraLib) throws IOException {
    Path lib = Files.createDirectories(home.resolve("lib"));
    Set<String> found = new HashSet<>();
    for (String entry : testClassPath()) {
      Path jar = Path.of(entry);
      for (String artifact : FLINK_LIB) {
        if (isArtifact(jar, artifact) && found.add(artifact)) {
          Files.copy(jar, lib.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    List<String> missing = new ArrayList<>(FLINK_LIB);
    missing.removeAll(found);
    if (!missing.isEmpty()) {
      throw new IllegalStateException("not on the test classpath, so not in the cluster's lib/: " + missing);
    }
    try (var jars = Files.list(extraLib)) {
      for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).toList()) {
        Files.copy(jar, lib.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path conf = Files.createDirectories(home.resolve("conf"));
    Files.createDirectories(home.resolve("log"));
    Files.createDirectories(home.resolve("tmp"));
    Files.writeString(conf.resolve("config.yaml"), configYaml());
    Files.writeString(conf.resolve("log4j.properties"), String.join("\n",
        "rootLogger.level = INFO",
        "rootLogger.appenderRef.file.ref = MainAppender",
        "appender.main.name = MainAppender",
        "appender.main.type = File",
        "appender.main.append = true",
        "appender.main.fileName = ${sys:log.file}",
        "appender.main.layout.type = PatternLayout",
        "appender.main.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
        "logger.kafka.name = org.apache.kafka",
        "logger.kafka.level = WARN",
        ""));
  }

  private String configYaml() {
    return String.join("\n",
        "# written by SessionCluster (moestream tests): one JobManager, one TaskManager, all on 127.0.0.1",
        "jobmanager.rpc.address: 127.0.0.1",
        "jobmanager.rpc.port: " + freePort(),
        "jobmanager.bind-host: 127.0.0.1",
        "jobmanager.memory.process.size: 1024m",
        "taskmanager.host: 127.0.0.1",
        "taskmanager.bind-host: 127.0.0.1",
        "taskmanager.numberOfTaskSlots: 1",
        "taskmanager.memory.process.size: 1728m",
        "taskmanager.memory.managed.size: 64m",
        "rest.address: 127.0.0.1",
        "rest.bind-address: 127.0.0.1",
        "rest.port: " + restPort,
        "parallelism.default: 1",
        "web.tmpdir: " + home.resolve("tmp").resolve("web"),
        "io.tmp.dirs: " + home.resolve("tmp"),
        "env.java.opts.all: " + JAVA_OPTS_ALL,
        "metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
        "metrics.reporter.prom.port: \"" + prometheusPorts.get(0) + "," + prometheusPorts.get(1) + "\"",
        String.join("\n", extraConfig),
        "");
  }

  /**
   * Starts one Flink process as bin/config.sh does: memory flags and settings from
   * {@code BashJavaUtils}, then {@code env.java.opts.all}.
   */
  private Process launch(String name, String mainClass, String resourceCommand) throws Exception {
    List<String> resources = bashJavaUtils(resourceCommand);
    List<String> command = new ArrayList<>(List.of(java()));
    command.addAll(split(resources.get(0)));
    command.addAll(split(JAVA_OPTS_ALL));
    command.addAll(List.of(
        "-Dlog.file=" + home.resolve("log").resolve(name + ".log"),
        "-Dlog4j.configurationFile=" + home.resolve("conf").resolve("log4j.properties").toUri(),
        "-cp", classPath(), mainClass, "--configDir", home.resolve("conf").toString()));
    command.addAll(split(resources.get(1)));
    Process process = new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true)
        .redirectOutput(home.resolve("log").resolve(name + ".out").toFile()).start();
    processes.add(process);
    return process;
  }

  /** The two result lines of Flink's BashJavaUtils: JVM memory flags, then -D settings. */
  private List<String> bashJavaUtils(String command) throws Exception {
    Path out = home.resolve("log").resolve("bash-java-utils-" + command + ".out");
    Process process = new ProcessBuilder(java(), "-Xmx256m", "-cp", classPath(),
        "org.apache.flink.runtime.util.bash.BashJavaUtils", command, "--configDir", home.resolve("conf").toString())
        .directory(home.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("BashJavaUtils " + command + " failed:\n" + Files.readString(out));
    }
    List<String> results = Files.readAllLines(out).stream().filter(l -> l.startsWith(RESULT_PREFIX))
        .map(l -> l.substring(RESULT_PREFIX.length())).toList();
    if (results.size() < 2) {
      throw new IllegalStateException("BashJavaUtils " + command + " printed no resource settings:\n" + Files.readString(out));
    }
    return results.subList(results.size() - 2, results.size());
  }

  /**
   * Writes {@code bin/flink}, the command-line client as a distribution's {@code bin/flink} runs it:
   * Flink's CliFrontend on this cluster's lib/ and conf/ (where it finds the JVM flags and the REST
   * address), logging to log/client.log.
   */
  Path writeFlinkCli(Path bin) throws IOException {
    Files.createDirectories(bin);
    return writeScript(bin.resolve("flink"),
        "# written by SessionCluster (moestream tests): Flink's client on the test cluster's lib/ and conf/",
        "export FLINK_CONF_DIR='" + home.resolve("conf") + "'",
        "exec '" + java() + "' -Xmx512m " + JAVA_OPTS_ALL
            + " '-Dlog.file=" + home.resolve("log").resolve("client.log") + "'"
            + " '-Dlog4j.configurationFile=" + home.resolve("conf").resolve("log4j.properties").toUri() + "'"
            + " -cp '" + classPath() + "' org.apache.flink.client.cli.CliFrontend \"$@\"");
  }

  /** An executable bash script of {@code lines}. */
  static Path writeScript(Path script, String... lines) throws IOException {
    Files.writeString(script, "#!/usr/bin/env bash\n" + String.join("\n", lines) + "\n");
    if (!script.toFile().setExecutable(true)) {
      throw new IOException("cannot make " + script + " executable");
    }
    return script;
  }

  /** The last lines of each process's log and stdout, for failure messages. */
  String logTails() {
    StringBuilder sb = new StringBuilder();
    List<String> files = new ArrayList<>(List.of("jobmanager.log", "jobmanager.out", "taskmanager.log", "taskmanager.out",
        "client.log"));
    try (var more = Files.list(home.resolve("log"))) { // TaskManagers started after a kill
      more.map(p -> p.getFileName().toString()).filter(f -> f.matches("taskmanager-.*\\.(log|out)")).sorted()
          .forEach(files::add);
    } catch (IOException e) {
      // the fixed names above still say what there is
    }
    for (String file : files) {
      Path path = home.resolve("log").resolve(file);
      sb.append("\n===== ").append(path).append(" (last 60 lines) =====\n");
      try {
        List<String> lines = Files.exists(path) ? Files.readAllLines(path, StandardCharsets.UTF_8) : List.of("(none)");
        lines.subList(Math.max(0, lines.size() - 60), lines.size()).forEach(l -> sb.append(l).append('\n'));
      } catch (IOException e) {
        sb.append("(unreadable: ").append(e.getMessage()).append(")\n");
      }
    }
    return sb.toString();
  }

  /** Ends the TaskManager, then the JobManager, each with any processes they started. */
  @Override
  public void close() {
    for (int i = processes.size() - 1; i >= 0; i--) {
      Process process = processes.get(i);
      process.descendants().forEach(ProcessHandle::destroy);
      process.destroy();
      try {
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
          process.descendants().forEach(ProcessHandle::destroyForcibly);
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
    processes.clear();
  }

  private String classPath() {
    return home.resolve("lib") + File.separator + "*";
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static List<String> split(String flags) {
    return Arrays.stream(flags.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
  }

  /** Surefire's test classpath (java.class.path is a manifest-only jar when it forks). */
  static List<String> testClassPath() {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    return Arrays.asList(cp.split(File.pathSeparator));
  }

  /**
   * Whether {@code jar} is the main jar of {@code groupId:artifactId} in a Maven repository layout
   * ({@code .../group/path/artifactId/version/artifactId-version.jar}); classified jars (tests,
   * natives) and modules' class folders are not.
   */
  static boolean isArtifact(Path jar, String coordinates) {
    String[] ga = coordinates.split(":");
    Path version = jar.getParent();
    Path artifact = version == null ? null : version.getParent();
    return artifact != null && artifact.getParent() != null
        && artifact.getFileName().toString().equals(ga[1])
        && jar.getFileName().toString().equals(ga[1] + "-" + version.getFileName() + ".jar")
        && artifact.getParent().endsWith(Path.of(ga[0].replace('.', '/')));
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
