package sim

import (
	"reflect"
	"strings"
	"testing"
)

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct{ path, want string }{
		{"a.b", "must start with $"},
		{"$..name", "deep scan"},
		{"$.a[?(@.x > 1)]", "filter"},
		{"$.a[0,1]", "unions"},
		{"$.a[1:5:2]", "step"},
		{"$.a[x]", "not an index"},
		{"$.a[0", "unclosed"},
		{"$.", "empty name"},
		{"$.a b", "dot notation"},
		{"$a", "unexpected"},
	}
	for _, tt := range tests {
		if _, err := ParsePath(tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParsePath(%q) = %v; want an error saying %q", tt.path, err, tt.want)
		}
	}
}

func TestPathGet(t *testing.T) {
	doc := mustDecode(t, `{"a":{"b-c":[10,20,{"d":true}],"e f":1},"steps":{"host-artifacts":{"outputs":{"done":false}}},"n":null}`)
	ctx := mustDecode(t, `{"Execution":{"Id":"x"}}`)
	tests := []struct {
		path string
		want string // JSON; "" when nothing matches
	}{
		{"$", `{"a":{"b-c":[10,20,{"d":true}],"e f":1},"n":null,"steps":{"host-artifacts":{"outputs":{"done":false}}}}`},
		{"$.a.b-c[1]", `20`},
		{"$.a.b-c[-1].d", `true`},
		{"$.a['e f']", `1`},
		{`$["a"]["b-c"][0]`, `10`},
		{"$.steps.host-artifacts.outputs.done", `false`},
		{"$.n", `null`},
		{"$.missing", ``},
		{"$.a.b-c[3]", ``},
		{"$.a.b-c[*]", `[10,20,{"d":true}]`},
		{"$.a.b-c[0:2]", `[10,20]`},
		{"$.a.*", `[[10,20,{"d":true}],1]`},
		{"$.nothing[*]", `[]`},
		{"$$.Execution.Id", `"x"`},
	}
	for _, tt := range tests {
		p, err := ParsePath(tt.path)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", tt.path, err)
		}
		got, ok := p.Get(doc, ctx)
		if tt.want == "" {
			if ok {
				t.Errorf("%s matched %v; want nothing", tt.path, got)
			}
			continue
		}
		if !ok || !equal(got, mustDecode(t, tt.want)) {
			t.Errorf("%s = %v (found %v); want %s", tt.path, mustCompact(got), ok, tt.want)
		}
	}
}

func TestPathSet(t *testing.T) {
	tests := []struct {
		doc, path, val, want, err string
	}{
		{`{"a":1}`, "$.b", `2`, `{"a":1,"b":2}`, ""},
		{`{"a":1}`, "$.steps.x", `{"s":"OK"}`, `{"a":1,"steps":{"x":{"s":"OK"}}}`, ""},
		{`{"a":{"b":1}}`, "$.a.c", `3`, `{"a":{"b":1,"c":3}}`, ""},
		{`{"a":[1,2]}`, "$.a[1]", `9`, `{"a":[1,9]}`, ""},
		{`{"a":"text"}`, "$.a.b", `1`, ``, "not an object"},
		{`[1]`, "$.a", `1`, ``, "not an object"},
		{`{"a":[1]}`, "$.a[5]", `1`, ``, "outside"},
		{`{"a":1}`, "$", `7`, `7`, ""},
	}
	for _, tt := range tests {
		doc := mustDecode(t, tt.doc)
		before := mustCompact(doc)
		p, _ := ParsePath(tt.path)
		got, err := p.Set(doc, mustDecode(t, tt.val))
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Set(%s, %s) error %v; want %q", tt.doc, tt.path, err, tt.err)
			}
		case err != nil || !reflect.DeepEqual(mustCompact(got), mustCompact(mustDecode(t, tt.want))):
			t.Errorf("Set(%s, %s) = %s, %v; want %s", tt.doc, tt.path, mustCompact(got), err, tt.want)
		}
		if mustCompact(doc) != before {
			t.Errorf("Set changed its input %s", tt.doc)
		}
	}
}

func TestJSONSize(t *testing.T) {
	for _, s := range []string{`null`, `{"a":[1,2.5e3,"x\"y\\z\n\u0001é\u2028"],"b":{},"c":[],"d":true,"e":false}`, `"\ufffd"`} {
		v := mustDecode(t, s)
		got, ok := jsonSize(v)
		if want := len(mustCompact(v)); !ok || got != want {
			t.Errorf("jsonSize(%s) = %d; want %d", s, got, want)
		}
	}
}
