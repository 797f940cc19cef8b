package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Healing settings an operator could get wrong are refused with a reason. */
class HealingSettingsTest {

  @Test
  void theDefaultsAreSafe() {
    assertTrue(HealingSettings.defaults().problems().isEmpty(), HealingSettings.defaults().problems().toString());
  }

  @Test
  void aControllerFailoverConfirmLongerThanTheGraceWindowIsRefused() {
    HealingSettings late = HealingSettings.defaults().withControllerFailoverConfirm(Duration.ofSeconds(11));

    assertEquals(1, late.problems().size());
    assertTrue(late.problems().get(0).contains("controller-failover-confirm"));
  }

  @Test
  void aControllerFailoverConfirmAsLongAsTheGraceWindowIsAccepted() {
    HealingSettings equal = HealingSettings.defaults().withControllerFailoverConfirm(Duration.ofSeconds(10));

    assertTrue(equal.problems().isEmpty(), equal.problems().toString());
  }
}
