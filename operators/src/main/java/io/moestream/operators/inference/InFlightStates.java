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
    if (state.version < 2) {
      // version 1 held no source coordinates: the Flink POJO serializer left them at the defaults
      // (topic null, offset -1), which every reader of them takes as unknown
      state.request.sourceTopic = null;
      state.request.sourceOffset = -1;
    }
    state.version = InFlightRequest.CURRENT_VERSION;
    return state;
  }
}
