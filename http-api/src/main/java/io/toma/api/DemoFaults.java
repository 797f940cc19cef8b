package io.toma.api;

import java.util.concurrent.CompletionStage;

/**
 * Fault injection for the demo (simulated kernels only). When the server is given none, the
 * {@code /api/v1/demo/*} routes answer 404 as if they did not exist.
 */
public interface DemoFaults {

  /** Injects one fault; answers a sentence saying what was broken. Unknown targets are NotFound. */
  CompletionStage<ApiResult<String>> inject(FaultRequest fault);

  /** Heals every injected fault; answers a sentence saying what was healed. */
  CompletionStage<ApiResult<String>> heal();
}
