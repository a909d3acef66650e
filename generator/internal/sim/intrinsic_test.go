package sim

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestIntrinsics(t *testing.T) {
	input := mustDecode(t, `{"a":{"x":1,"n":{"p":1}},"b":{"y":2,"n":{"q":2}},"s":"a,b;c","arr":[1,2,2,3],"name":"irflow"}`)
	env := &env{rng: rand.New(rand.NewPCG(1, 2))}
	tests := []struct{ expr, want string }{
		{"States.JsonMerge($.a, $.b, false)", `{"x":1,"y":2,"n":{"q":2}}`},
		{"States.JsonMerge($.a, $.b, true)", `{"x":1,"y":2,"n":{"p":1,"q":2}}`},
		{"States.JsonMerge(States.JsonMerge($.a, $.b, false), $.a, false)", `{"x":1,"y":2,"n":{"p":1}}`},
		{"States.Format('hello {} and \\{{}\\}', $.name, 42)", `"hello irflow and {42}"`},
		{"States.Format('it\\'s {}', true)", `"it's true"`},
		{"States.StringToJson('{\"k\": [1]}')", `{"k":[1]}`},
		{"States.JsonToString($.b)", `"{\"n\":{\"q\":2},\"y\":2}"`},
		{"States.Array(1, 'two', $.a.x, null)", `[1,"two",1,null]`},
		{"States.ArrayPartition($.arr, 3)", `[[1,2,2],[3]]`},
		{"States.ArrayContains($.arr, 3)", `true`},
		{"States.ArrayRange(1, 9, 4)", `[1,5,9]`},
		{"States.ArrayGetItem($.arr, 3)", `3`},
		{"States.ArrayLength($.arr)", `4`},
		{"States.ArrayUnique($.arr)", `[1,2,3]`},
		{"States.Base64Encode('irflow')", `"aXJmbG93"`},
		{"States.Base64Decode('aXJmbG93')", `"irflow"`},
		{"States.Hash('irflow', 'SHA-256')", `"` + "3cc21960c9aa93172da4e37acfb2bb2da3789782969270b9760d867bc6c7b905" + `"`},
		{"States.MathAdd($.a.x, -3)", `-2`},
		{"States.StringSplit($.s, ',;')", `["a","b","c"]`},
		{"States.MathRandom(1, 2)", `1`},
	}
	for _, tt := range tests {
		c, err := ParseIntrinsic(tt.expr)
		if err != nil {
			t.Errorf("ParseIntrinsic(%s): %v", tt.expr, err)
			continue
		}
		got, err := c.eval(input, nil, env)
		if err != nil || !equal(got, mustDecode(t, tt.want)) {
			t.Errorf("%s = %s, %v; want %s", tt.expr, mustCompact(got), err, tt.want)
		}
	}
	if u, _ := (&icall{name: "States.UUID"}).eval(nil, nil, env); len(u.(string)) != 36 || u.(string)[14] != '4' {
		t.Errorf("States.UUID() = %v; want a version 4 UUID", u)
	}
}

func TestIntrinsicErrors(t *testing.T) {
	parse := []struct{ expr, want string }{
		{"States.Nope(1)", "not an intrinsic function"},
		{"States.JsonMerge($.a, $.b)", "takes 3 arguments"},
		{"States.UUID(1)", "takes 0 arguments"},
		{"States.Format('x'", "unclosed"},
		{"States.Array(@)", "not a string"},
		{"States.Array($..x)", "deep scan"},
	}
	for _, tt := range parse {
		if _, err := ParseIntrinsic(tt.expr); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseIntrinsic(%s) = %v; want an error saying %q", tt.expr, err, tt.want)
		}
	}
	input := mustDecode(t, `{"a":{"x":1},"s":"str"}`)
	run := []struct{ expr, name string }{
		{"States.JsonMerge($.a, $.s, false)", ErrIntrinsic},
		{"States.Format('{} {}', 1)", ErrIntrinsic},
		{"States.MathAdd(1.5, 1)", ErrIntrinsic},
		{"States.ArrayGetItem(States.Array(1), 4)", ErrIntrinsic},
		{"States.JsonToString($.missing)", "States.Runtime"},
	}
	for _, tt := range run {
		c, err := ParseIntrinsic(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.eval(input, nil, &env{rng: rand.New(rand.NewPCG(1, 2))})
		if se := asStates(err); se == nil || se.Name != tt.name {
			t.Errorf("%s: got %v; want %s", tt.expr, err, tt.name)
		}
	}
}
