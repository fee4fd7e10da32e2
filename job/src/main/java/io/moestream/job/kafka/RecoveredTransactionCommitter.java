package io.moestream.job.kafka;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka connector's committer, preceded by a question to the transaction coordinator for every
 * committable restored from a checkpoint (one that comes without the writer's producer).
 *
 * <p>Why: a checkpoint's committer state holds the transactions of that checkpoint, which are
 * committed only when the checkpoint completes, after the state was taken. When a TaskManager dies
 * after that commit, the job restores the checkpoint and the connector commits those transactions
 * again, with a new producer resumed at the stored producer id and epoch. On a broker with
 * transaction version 2 (Kafka 4.x default) the first commit bumped the epoch; the resumed producer
 * has not learned the broker's transaction version and sends its EndTxn as version 1, where the
 * coordinator demands the exact epoch and answers PRODUCER_FENCED although the transaction is
 * COMPLETE_COMMIT. The connector then logs ERROR "Unable to commit transaction ... producer is
 * already fenced ... data loss", and nothing was lost.
 *
 * <p>What: a restored transaction that the coordinator reports as COMPLETE_COMMIT for the same
 * producer id, one epoch later (the bump of its own commit), was committed before the failure; it is
 * reported committed at INFO and not committed again. Any other answer (ongoing: the normal recovery
 * commit; aborted: a real loss, said here at ERROR too) goes to the connector unchanged, as does
 * every commit when the coordinator cannot be asked.
 */
final class RecoveredTransactionCommitter implements Committer<KafkaCommittable> {
  private static final Logger LOG = LoggerFactory.getLogger(RecoveredTransactionCommitter.class);
  private static final long DESCRIBE_TIMEOUT_S = 30;

  private final Committer<KafkaCommittable> kafka;
  private final Properties adminConfig;
  private Admin admin;

  RecoveredTransactionCommitter(Committer<KafkaCommittable> kafka, Properties adminConfig) {
    this.kafka = kafka;
    this.adminConfig = adminConfig;
  }

  @Override
  public void commit(Collection<CommitRequest<KafkaCommittable>> requests) throws IOException, InterruptedException {
    List<CommitRequest<KafkaCommittable>> toCommit = new ArrayList<>(requests.size());
    for (CommitRequest<KafkaCommittable> request : requests) {
      if (request.getCommittable().getProducer().isEmpty() && committedBefore(request.getCommittable())) {
        request.signalAlreadyCommitted();
      } else {
        toCommit.add(request);
      }
    }
    if (!toCommit.isEmpty()) {
      kafka.commit(toCommit);
    }
  }

  /** Whether the coordinator reports the restored transaction committed; logs what it reports when that matters. */
  private boolean committedBefore(KafkaCommittable committable) throws InterruptedException {
    String id = committable.getTransactionalId();
    TransactionDescription described;
    try {
      described = admin().describeTransactions(List.of(id)).description(id).get(DESCRIBE_TIMEOUT_S, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      LOG.warn("Could not ask the transaction coordinator about restored transaction {} (producer id {}, epoch {}); "
          + "committing it as the Kafka connector does. A 'producer is already fenced' ERROR for it may then be a "
          + "transaction committed before the restart: docs/OPERATIONS.md says how to tell.", id,
          committable.getProducerId(), committable.getEpoch(), e);
      return false;
    }
    boolean sameProducer = described.producerId() == committable.getProducerId();
    if (sameProducer && described.state() == TransactionState.COMPLETE_COMMIT
        && described.producerEpoch() == committable.getEpoch() + 1) {
      LOG.info("Restored transaction {} (producer id {}, epoch {}) was already committed before the restart: the "
          + "transaction coordinator reports {} at epoch {} (the epoch its commit bumped). Not committing it again; "
          + "its records are in the topic once.", id, committable.getProducerId(), committable.getEpoch(),
          described.state(), described.producerEpoch());
      return true;
    }
    if (sameProducer && described.state() == TransactionState.COMPLETE_ABORT
        && described.producerEpoch() > committable.getEpoch()) {
      LOG.error("Restored transaction {} (producer id {}, epoch {}) was aborted before it could be committed: the "
          + "transaction coordinator reports {} at epoch {}. Its records are not in the topic (transaction timeout "
          + "or another producer with this transactional id).", id, committable.getProducerId(),
          committable.getEpoch(), described.state(), described.producerEpoch());
    } else {
      LOG.debug("Restored transaction {}: coordinator reports {}; committing it", id, described);
    }
    return false;
  }

  private Admin admin() {
    if (admin == null) {
      admin = Admin.create(adminConfig);
    }
    return admin;
  }

  @Override
  public void close() throws Exception {
    try {
      kafka.close();
    } finally {
      if (admin != null) {
        admin.close();
      }
    }
  }
}
