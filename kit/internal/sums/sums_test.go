package sums

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

type grammarCase struct {
	Name  string   `json:"name"`
	Text  string   `json:"text"`
	OK    bool     `json:"ok"`
	Paths []string `json:"paths"`
}

func expand(s string) string {
	s = strings.ReplaceAll(s, "A  ", strings.Repeat("a", 64)+"  ")
	s = strings.ReplaceAll(s, "A *", strings.Repeat("a", 64)+" *")
	s = strings.ReplaceAll(s, "A ", strings.Repeat("a", 64)+" ")
	return strings.ReplaceAll(s, "B  ", strings.Repeat("b", 64)+"  ")
}

func TestGrammarTable(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/sha256sums-grammar.json")
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Cases []grammarCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	for _, c := range table.Cases {
		t.Run(c.Name, func(t *testing.T) {
			s, err := Parse([]byte(expand(c.Text)))
			if c.OK != (err == nil) {
				t.Fatalf("Parse(%q): err = %v, want ok = %v", c.Text, err, c.OK)
			}
			if err != nil {
				return
			}
			var got []string
			for _, e := range s.Entries {
				got = append(got, e.Path)
			}
			if len(got) == 0 {
				got = []string{}
			}
			if !reflect.DeepEqual(got, c.Paths) {
				t.Fatalf("paths = %v, want %v", got, c.Paths)
			}
		})
	}
}

func TestFormatSortsAndRoundTrips(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	out, err := Format([]Entry{{Path: "z", SHA256: a}, {Path: "B", SHA256: b}, {Path: "a/b", SHA256: a}})
	if err != nil {
		t.Fatal(err)
	}
	want := b + "  B\n" + a + "  a/b\n" + a + "  z\n"
	if string(out) != want {
		t.Fatalf("Format = %q, want %q", out, want)
	}
	s, err := Parse(out)
	if err != nil || s.Len() != 3 {
		t.Fatalf("round trip: %v, %d", err, s.Len())
	}
	if h, ok := s.Lookup("a/b"); !ok || h != a {
		t.Fatalf("Lookup = %q, %v", h, ok)
	}
	if _, err := Format([]Entry{{Path: "../x", SHA256: a}}); err == nil {
		t.Fatal("Format accepted a path with ..")
	}
	if _, err := Format([]Entry{{Path: "x", SHA256: a}, {Path: "x", SHA256: b}}); err == nil {
		t.Fatal("Format accepted a duplicate")
	}
}

func TestErrorsNameTheLine(t *testing.T) {
	a := strings.Repeat("a", 64)
	_, err := Parse([]byte(a + "  ok\n" + a + "  ../evil\n"))
	if err == nil || !strings.Contains(err.Error(), `line 2 names "../evil", which has a ".." segment`) {
		t.Fatalf("err = %v", err)
	}
}
