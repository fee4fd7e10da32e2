package io.moestream.registryrunner;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import java.util.ArrayList;
import javax.enterprise.context.ApplicationScoped;
import javax.enterprise.inject.Produces;

/**
 * The bean Apicurio's config-index Quarkus extension generates at build time: its -deployment artifact
 * is not on Maven Central, so this build leaves the extension out and produces the bean here, with
 * no dynamic (runtime-editable) properties; the tests need none.
 */
@ApplicationScoped
public class ConfigIndexStandIn {
  @Produces
  @ApplicationScoped
  DynamicConfigPropertyList dynamicConfigPropertyList() {
    return new DynamicConfigPropertyList(new ArrayList<>());
  }
}
