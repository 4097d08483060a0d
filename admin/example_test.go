package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/turnkit/turnkit"
)

// A Kit with an admin token serves the dashboard at /admin/ and the admin
// API under /admin/api/; every API call carries the token as a Bearer
// header.
func Example() {
	dir, err := os.MkdirTemp("", "turnkit-admin-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	kit, err := turnkit.Open(ctx, turnkit.Config{
		DBPath:     filepath.Join(dir, "turnkit.db"),
		NoRelay:    true,
		AdminToken: "tka_example-admin-token-0123456789", // generate yours
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	if _, err := kit.CreateApp(ctx, turnkit.NewApp{ID: "shop", Name: "Shop"}); err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/", kit.Handler())
	mux.Handle("/admin/", kit.AdminHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/admin/api/apps", nil)
	req.Header.Set("Authorization", "Bearer tka_example-admin-token-0123456789")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Apps []struct{ ID, Name, Status string }
		Next *string
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.StatusCode, page.Apps, page.Next)

	res, err = http.Get(srv.URL + "/admin/api/apps") // no token
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("WWW-Authenticate"))
	// Output:
	// 200 [{shop Shop active}] <nil>
	// 401 Bearer realm="turnkit admin"
}
