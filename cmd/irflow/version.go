package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func init() {
	register(command{name: "version", summary: "print irflow's version, commit and Go version", run: runVersion})
}

// commit is the source revision, set by make irflow
// (-ldflags "-X main.commit=..."); builds with VCS stamping read it from
// the build info instead.
var commit = ""

// buildVersion is what this binary knows about itself.
type buildVersion struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

func readVersion() buildVersion {
	v := buildVersion{Version: "(devel)", Commit: commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			v.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if v.Commit == "" {
					v.Commit = s.Value
				}
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	return v
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", "[--format text|json]", stderr)
	format := fs.String("format", "text", "text or json")
	rest, help, err := parseFormat(fs, args, format, "text", "json")
	if help {
		return exitOK
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("takes no arguments")
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	v := readVersion()
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if enc.Encode(v) != nil {
			return exitUsage
		}
		return exitOK
	}
	dirty := ""
	if v.Modified {
		dirty = ", modified"
	}
	fmt.Fprintf(stdout, "irflow %s (commit %s%s, %s, %s)\n", v.Version, v.Commit, dirty, v.Go, v.Platform)
	return exitOK
}
