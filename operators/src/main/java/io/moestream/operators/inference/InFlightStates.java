package io.moestream.operators.inference;

import io.moestream.operators.records.InFlightRequest;

/** Reads in-flight state written by this release or an earlier one; refuses a later one's. */
final class InFlightStates {
  private InFlightStates() {}

  static InFlightRequest upgrade(InFlightRequest state) {
    if (state.version > InFlightRequest.CURRENT_VERSION) {
      throw new IllegalStateException("in-flight state of request " + (state.request == null ? "?" : state.request.requestId)
          + " has version " + state.version + ", written by a later release of moestream (this one reads up to "
          + InFlightRequest.CURRENT_VERSION + "): restore the savepoint with that release or a later one");
    }
    // version 1 held no source coordinates: the Flink POJO serializer leaves them at the no-arg
    // constructor's values (topic null, offset -1), which every reader of them takes as unknown;
    // version 2 held no reply topic and no carried headers: null, which answers to the job's output
    // topic without headers, as the request would have been answered when it was accepted
    state.version = InFlightRequest.CURRENT_VERSION;
    return state;
  }
}
