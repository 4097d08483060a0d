package compat

import "github.com/turnkit/turnkit/internal/httpx"

// resolveRegion turns the region slug a request sends in field into relay
// regions through the alias table: nil for an empty slug and for one that
// means any region ("global"), and an error of the BadRequest kind, naming
// the slug, for one the table does not know.
func (h *handler) resolveRegion(field, slug string) ([]string, error) {
	if slug == "" {
		return nil, nil
	}
	regions, ok := h.cfg.Aliases.Lookup(slug)
	if !ok {
		return nil, h.badRequest("%s %q is not a known region (for example: global, us_east, europe, eu-central, ap-singapore)",
			field, httpx.Clip(slug))
	}
	return regions, nil
}
