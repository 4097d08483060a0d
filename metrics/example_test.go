package metrics_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/metrics"
)

// A host registers the Kit's collector on a registry of its own and
// serves it with promhttp.HandlerFor(reg, promhttp.HandlerOpts{}); here
// the registry is gathered directly. A Kit without relay exports its own
// metrics only.
func ExampleNewCollector() {
	dir, _ := os.MkdirTemp("", "turnkit-example")
	defer os.RemoveAll(dir)
	kit, err := turnkit.Open(context.Background(), turnkit.Config{DBPath: filepath.Join(dir, "turnkit.db"), NoRelay: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer kit.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(kit))
	families, err := reg.Gather()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range families {
		fmt.Println(f.GetName(), f.GetType(), len(f.GetMetric()))
	}
	// Output:
	// turnkit_events_delivered_total COUNTER 1
	// turnkit_events_dropped_total COUNTER 1
	// turnkit_ledger_charge_duration_seconds HISTOGRAM 1
	// turnkit_ledger_charges_total COUNTER 3
	// turnkit_store_operation_duration_seconds HISTOGRAM 10
}
