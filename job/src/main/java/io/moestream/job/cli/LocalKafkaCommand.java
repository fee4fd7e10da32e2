package io.moestream.job.cli;

import io.moestream.job.kafka.EmbeddedKafka;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;

@Command(name = "local-kafka",
    description = {"Runs a Kafka broker in this process until stopped.",
        "%nThe broker is the single-node one (KRaft) that demo and bench-ramp run in-process. Use it to try run,"
            + " produce and consume locally, or to benchmark with the broker in a process of its own (bench-pipeline"
            + " --bootstrap-servers). It prints bootstrap.servers=HOST:PORT on stdout once ready and runs until"
            + " stopped (Ctrl-C). Its data lives in a temporary folder and is gone when it stops."})
final class LocalKafkaCommand implements Callable<Integer> {
  @Override
  public Integer call() throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        kafka.close();
      } catch (Exception e) {
        System.err.println("local-kafka: stopping the broker failed: " + e.getMessage());
      }
      stopped.countDown();
    }, "local-kafka-stop"));
    System.out.println("bootstrap.servers=" + kafka.bootstrapServers());
    System.out.flush();
    stopped.await();
    return 0;
  }
}
