package main

// This file draws the relay table as a PNG: one panel per charted metric,
// one bar per relay, drawn with the standard image packages and
// basicfont's labels.

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Chart geometry, in pixels.
const (
	panelW   = 380
	panelH   = 210
	columns  = 3
	headerH  = 56
	margin   = 12
	charW    = 7  // basicfont.Face7x13's advance
	lineH    = 15 // its line height with a little air
	barW     = 64
	barGap   = 36
	plotTop  = 2*lineH + 22 // below the two title lines and the value labels
	plotBase = panelH - 2*lineH
)

var (
	white  = color.RGBA{255, 255, 255, 255}
	ink    = color.RGBA{33, 37, 41, 255}
	faint  = color.RGBA{134, 142, 150, 255}
	rule   = color.RGBA{222, 226, 230, 255}
	colors = map[serverKind]color.RGBA{
		turnkitServer: {31, 119, 180, 255},
		pionServer:    {255, 127, 14, 255},
		coturnServer:  {44, 160, 44, 255},
	}
)

// writeChart writes the chart of r's relay table to path.
func writeChart(path string, r *report) error {
	img := drawChart(r)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}

// drawChart renders the panels on one image.
func drawChart(r *report) *image.RGBA {
	var rows []*row
	for _, row := range r.relay.rows {
		if !row.chart {
			continue
		}
		for _, s := range r.servers {
			if _, ok := row.median(s); ok {
				rows = append(rows, row)
				break
			}
		}
	}
	n := max(1, len(rows))
	cols := min(columns, n)
	lines := (n + cols - 1) / cols
	w := cols*panelW + 2*margin
	h := headerH + lines*panelH + margin
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{white}, image.Point{}, draw.Src)

	text(img, margin, margin+11, ink, fmt.Sprintf("turnkit relay bench: medians of %d repetition(s), %s", r.o.reps, r.started.UTC().Format("2006-01-02")))
	text(img, margin, margin+11+lineH, faint, fit(r.machine.String()+". Only ratios within one run mean anything.", w-2*margin))
	if len(rows) == 0 {
		text(img, margin, headerH+lineH, faint, "no relay figures in this run")
	}
	for i, row := range rows {
		x := margin + (i%cols)*panelW
		y := headerH + (i/cols)*panelH
		drawPanel(img, image.Rect(x, y, x+panelW, y+panelH), row, r.servers)
	}
	return img
}

// drawPanel draws one metric: its title on two lines, a bar per relay
// scaled to the largest, the figure above each bar and the relay's name
// below.
func drawPanel(img *image.RGBA, p image.Rectangle, row *row, servers []serverKind) {
	inner := p.Inset(6)
	fill(img, image.Rect(inner.Min.X, inner.Max.Y-1, inner.Max.X, inner.Max.Y), rule)
	title, sub, _ := strings.Cut(row.label, ": ")
	if row.lowerBetter {
		sub += " (lower is better)"
	} else {
		sub += " (higher is better)"
	}
	text(img, inner.Min.X, inner.Min.Y+11, ink, fit(title, inner.Dx()))
	text(img, inner.Min.X, inner.Min.Y+11+lineH, faint, fit(sub, inner.Dx()))

	top := 0.0
	for _, s := range servers {
		if v, ok := row.median(s); ok && v > top {
			top = v
		}
	}
	span := len(servers)*barW + (len(servers)-1)*barGap
	x := inner.Min.X + (inner.Dx()-span)/2
	base := inner.Min.Y + plotBase
	height := plotBase - plotTop
	fill(img, image.Rect(x-8, base, x+span+8, base+1), faint)
	for _, s := range servers {
		v, ok := row.median(s)
		label := "n/a"
		if ok {
			label = row.format(v)
			bh := 0
			if top > 0 {
				bh = int(float64(height) * v / top)
			}
			fill(img, image.Rect(x, base-bh, x+barW, base), colors[s])
			text(img, x+barW/2-len(label)*charW/2, base-bh-4, ink, label)
		} else {
			text(img, x+barW/2-len(label)*charW/2, base-4, faint, label)
		}
		name := string(s)
		text(img, x+barW/2-len(name)*charW/2, base+lineH, ink, name)
		x += barW + barGap
	}
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
}

// text draws s with its baseline at y. basicfont has ASCII only: µ is
// written u.
func text(img *image.RGBA, x, y int, c color.RGBA, s string) {
	s = strings.ReplaceAll(s, "µ", "u")
	d := font.Drawer{Dst: img, Src: &image.Uniform{c}, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// fit shortens s to at most width pixels of basicfont text.
func fit(s string, width int) string {
	n := width / charW
	if len(s) <= n || n < 2 {
		return s
	}
	return s[:n-1] + "~"
}
