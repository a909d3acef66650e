package main

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Stat summarizes a set of samples: the median and the spread, the
// interquartile range and the extremes, of N samples.
type Stat struct {
	N                          int
	Median, Min, Max, P25, P75 float64
}

// summarize computes a Stat; the quartiles interpolate linearly between
// the closest ranks. No samples give the zero Stat.
func summarize(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return Stat{N: len(s), Median: quantile(s, 0.5), Min: s[0], Max: s[len(s)-1],
		P25: quantile(s, 0.25), P75: quantile(s, 0.75)}
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return sorted[lo] + (sorted[hi]-sorted[lo])*frac
}

// durations converts nanosecond samples.
func nanos(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d.Nanoseconds())
	}
	return out
}

// fmtNs formats nanoseconds with three significant digits in a unit that
// keeps the number between 1 and 1000.
func fmtNs(ns float64) string {
	units := []struct {
		div  float64
		name string
	}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}, {1, "ns"}}
	for _, u := range units {
		if math.Abs(ns) >= u.div || u.div == 1 {
			return sig3(ns/u.div) + " " + u.name
		}
	}
	return "0"
}

// sig3 prints a number with three significant digits (at least the integer part).
func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// spreadNs is "min–max (IQR a–b)" in nanosecond units.
func spreadNs(s Stat) string {
	return fmt.Sprintf("%s – %s", fmtNs(s.Min), fmtNs(s.Max))
}

// iqrNs is the interquartile range.
func iqrNs(s Stat) string {
	return fmt.Sprintf("%s – %s", fmtNs(s.P25), fmtNs(s.P75))
}

// fmtInt prints an integer count with thousands separators.
func fmtInt(v float64) string {
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
