package verify

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestGrammarTable holds ParseSums to the SHA256SUMS grammar every verifier
// of ours shares: the same table runs against the kit's parser and the
// TypeScript one (test/private/sha256sums.test.ts).
func TestGrammarTable(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/sha256sums-grammar.json")
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Cases []struct {
			Name  string   `json:"name"`
			Text  string   `json:"text"`
			OK    bool     `json:"ok"`
			Paths []string `json:"paths"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Cases) < 20 {
		t.Fatalf("only %d cases in the table", len(table.Cases))
	}
	expand := strings.NewReplacer("A  ", strings.Repeat("a", 64)+"  ", "A *", strings.Repeat("a", 64)+" *", "A ", strings.Repeat("a", 64)+" ", "B  ", strings.Repeat("b", 64)+"  ")
	for _, c := range table.Cases {
		t.Run(c.Name, func(t *testing.T) {
			sums, err := ParseSums([]byte(expand.Replace(c.Text)))
			if c.OK != (err == nil) {
				t.Fatalf("ParseSums(%q): err = %v, want ok = %v", c.Text, err, c.OK)
			}
			if err != nil {
				return
			}
			got := []string{}
			for _, s := range sums {
				got = append(got, s.Path)
			}
			if !reflect.DeepEqual(got, c.Paths) {
				t.Fatalf("paths = %v, want %v", got, c.Paths)
			}
		})
	}
}
