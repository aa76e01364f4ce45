package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// greetings are the supported languages. The first is the fallback when
// nothing the client accepts is close enough to one of them.
var greetings = []struct {
	tag   language.Tag
	world string // greeting without a name
	named string // greeting of a name, with one %s
}{
	{language.English, "Hello, world!", "Hello, %s!"},
	{language.German, "Hallo, Welt!", "Hallo, %s!"},
	{language.French, "Bonjour le monde\u202f!", "Bonjour, %s\u202f!"},
	{language.Spanish, "¡Hola, mundo!", "¡Hola, %s!"},
	{language.Japanese, "こんにちは、世界！", "こんにちは、%sさん！"},
}

var matcher = language.NewMatcher(func() []language.Tag {
	tags := make([]language.Tag, len(greetings))
	for i, g := range greetings {
		tags[i] = g.tag
	}
	return tags
}())

// maxNameLen is the longest name accepted, in code points after normalization.
const maxNameLen = 64

// hello greets ?name= (or the world) in the language negotiated from ?lang=,
// which wins, and then the Accept-Language header: `Accept-Language: de-CH,
// fr;q=0.8` gets German, a language with no close match gets English.
func hello(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name, err := normalizeName(q.Get("name"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	g := greetings[negotiate(q.Get("lang"), r.Header.Values("Accept-Language"))]
	text := g.world
	if name != "" {
		text = fmt.Sprintf(g.named, name)
	}

	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Language", g.tag.String())
	h.Set("Vary", "Accept-Language")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = fmt.Fprintln(w, text)
}

// negotiate returns the index in greetings of the best match for an explicit
// language choice, then the Accept-Language header lines, or 0.
func negotiate(choice string, acceptLanguage []string) int {
	// Several header lines are one comma-separated list (RFC 9110, 5.3).
	_, i := language.MatchStrings(matcher, choice, strings.Join(acceptLanguage, ","))
	return i
}

// normalizeName puts a name in Unicode normalization form C, so that "José"
// is the same name whether the é arrived as one code point or as e and a
// combining accent, collapses white space, and rejects names that are too
// long or hold control or invisible formatting characters (such as
// bidirectional overrides).
func normalizeName(raw string) (string, error) {
	if !utf8.ValidString(raw) {
		return "", errors.New("name is not valid UTF-8")
	}
	name := strings.Join(strings.Fields(norm.NFC.String(raw)), " ")
	if n := utf8.RuneCountInString(name); n > maxNameLen {
		return "", fmt.Errorf("name is %d characters long, the limit is %d", n, maxNameLen)
	}
	for _, r := range name {
		// Zero-width (non-)joiners are formatting characters that names in
		// Persian or Indic scripts and emoji sequences need.
		if !unicode.IsGraphic(r) && r != '\u200c' && r != '\u200d' {
			return "", fmt.Errorf("name holds the control or formatting character %U", r)
		}
	}
	return name, nil
}
