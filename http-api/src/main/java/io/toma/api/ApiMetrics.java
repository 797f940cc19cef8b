package io.toma.api;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Request counters and latencies by route template (never the raw path: ids would explode the
 * label space), method and status, and the Prometheus text exposition of a registry.
 */
public final class ApiMetrics {

  private final PrometheusRegistry registry;
  private final Counter requests;
  private final Histogram latency;

  public ApiMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    this.requests = Counter.builder()
        .name("toma_api_requests_total")
        .help("HTTP API requests by route, method and status")
        .labelNames("route", "method", "status")
        .register(registry);
    this.latency = Histogram.builder()
        .name("toma_api_request_duration_seconds")
        .help("HTTP API request latency until the response starts, by route and method")
        .labelNames("route", "method")
        .classicOnly()
        .register(registry);
  }

  public void record(String route, String method, int status, long nanos) {
    requests.labelValues(route, method, Integer.toString(status)).inc();
    latency.labelValues(route, method).observe(nanos / 1e9);
  }

  public String contentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }

  public byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      PrometheusTextFormatWriter.create().write(out, registry.scrape(), io.prometheus.metrics.config.EscapingScheme.UNDERSCORE_ESCAPING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
