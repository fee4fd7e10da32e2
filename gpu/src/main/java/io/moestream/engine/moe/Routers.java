package io.moestream.engine.moe;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.MoeWeights;
import io.moestream.engine.model.RoutingConfig;

/** The router a sparse layer uses, from the config's routing rule and the layer's weights. */
public final class Routers {
  private Routers() {}

  public static Router forLayer(ModelConfig config, MoeWeights layer) {
    RoutingConfig routing = config.routing();
    int numExperts = config.numExperts();
    int topK = config.numExpertsPerTok();
    if (routing.scoring() == RoutingConfig.Scoring.SIGMOID) {
      float[] bias = layer.routerScoreCorrectionBias() != null ? layer.routerScoreCorrectionBias() : new float[numExperts];
      return new SigmoidRouter(numExperts, topK, config.normTopKProb(), routing.routedScalingFactor(),
          routing.numGroups(), routing.topkGroup(), bias, config.architecture() == Architecture.GLM4_MOE);
    }
    if (config.architecture().isDeepseek()) {
      boolean grouped = routing.topkMethod() == RoutingConfig.TopkMethod.GROUP_LIMITED_GREEDY;
      return new GroupLimitedRouter(numExperts, topK, config.normTopKProb(), routing.routedScalingFactor(),
          grouped ? routing.numGroups() : 1, grouped ? routing.topkGroup() : 1);
    }
    return new SoftmaxTopKRouter(numExperts, topK, config.normTopKProb());
  }
}
