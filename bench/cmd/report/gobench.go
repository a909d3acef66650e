package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// goBench is one benchmark of `go test -bench -benchmem -count N` output:
// one sample per count, each the mean over that count's iterations.
type goBench struct {
	Name   string
	NsOp   []float64
	BOp    []float64
	Allocs []float64
	Iters  []float64
}

// goBenchFile is a parsed `go test -bench` output.
type goBenchFile struct {
	Goos, Goarch, CPU, Pkg string
	Benchmarks             map[string]*goBench
	Order                  []string
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parseGoBench reads `go test -bench` output. The -GOMAXPROCS suffix is
// dropped from names; every line for one name is one more sample.
func parseGoBench(r io.Reader) (*goBenchFile, error) {
	f := &goBenchFile{Benchmarks: map[string]*goBench{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "Benchmark") {
			switch k {
			case "goos":
				f.Goos = v
			case "goarch":
				f.Goarch = v
			case "cpu":
				f.CPU = v
			case "pkg":
				f.Pkg = v
			}
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || fields[3] != "ns/op" {
			continue
		}
		name := procSuffix.ReplaceAllString(fields[0], "")
		b := f.Benchmarks[name]
		if b == nil {
			b = &goBench{Name: name}
			f.Benchmarks[name] = b
			f.Order = append(f.Order, name)
		}
		iters, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", line, err)
		}
		b.Iters = append(b.Iters, iters)
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", line, err)
			}
			switch fields[i+1] {
			case "ns/op":
				b.NsOp = append(b.NsOp, v)
			case "B/op":
				b.BOp = append(b.BOp, v)
			case "allocs/op":
				b.Allocs = append(b.Allocs, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(f.Benchmarks) == 0 {
		return nil, fmt.Errorf("no benchmark results")
	}
	return f, nil
}

// get returns the benchmark or an error naming it.
func (f *goBenchFile) get(name string) (*goBench, error) {
	if b := f.Benchmarks[name]; b != nil && len(b.NsOp) > 0 {
		return b, nil
	}
	return nil, fmt.Errorf("benchmark %s missing from the go test output", name)
}

// withPrefix lists the benchmarks under a prefix ("BenchmarkCompile/"), in output order.
func (f *goBenchFile) withPrefix(prefix string) []*goBench {
	var out []*goBench
	for _, n := range f.Order {
		if strings.HasPrefix(n, prefix) {
			out = append(out, f.Benchmarks[n])
		}
	}
	return out
}
