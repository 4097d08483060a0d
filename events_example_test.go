package turnkit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/turnkit/turnkit"
)

// An embedder follows what happens through Config.OnEvent: here, an app
// paused and resumed. The handler runs on the Kit's own goroutine; Close
// delivers what is queued before it returns.
func ExampleEvent() {
	dir, _ := os.MkdirTemp("", "turnkit-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	kit, err := turnkit.Open(ctx, turnkit.Config{
		DBPath:  filepath.Join(dir, "turnkit.db"),
		NoRelay: true,
		OnEvent: func(_ context.Context, ev turnkit.Event) {
			fmt.Println(ev.Kind, ev.AppID)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := kit.CreateApp(ctx, turnkit.NewApp{ID: "shop"}); err != nil {
		fmt.Println(err)
		return
	}
	_ = kit.PauseApp(ctx, "shop")
	_ = kit.ResumeApp(ctx, "shop")
	_ = kit.Close()
	// Output:
	// app_paused shop
	// app_resumed shop
}

// Kit.Stats is a snapshot of the Kit's counters, for a monitoring system
// (package metrics exports it to Prometheus).
func ExampleKit_Stats() {
	dir, _ := os.MkdirTemp("", "turnkit-example")
	defer os.RemoveAll(dir)
	kit, err := turnkit.Open(context.Background(), turnkit.Config{DBPath: filepath.Join(dir, "turnkit.db"), NoRelay: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer kit.Close()
	st := kit.Stats()
	fmt.Println("relay:", st.HasRelay, "charges:", st.Charges.Applied, "store ops timed:", len(st.Store))
	// Output:
	// relay: false charges: 0 store ops timed: 10
}
