package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/metrics"
)

// metricsHandler serves the Prometheus metrics of kit, of the Go runtime
// and of the process, from a registry of its own (not the global one), to
// be mounted at /metrics. The quickstart serves it next to the API on a
// loopback address; a deployment serves it where only its Prometheus
// reaches.
func metricsHandler(kit *turnkit.Kit) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		metrics.NewCollector(kit),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
