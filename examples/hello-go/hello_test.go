package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHello(t *testing.T) {
	tests := []struct {
		name         string
		method       string // GET when empty
		target       string
		accept       []string // Accept-Language header lines
		wantStatus   int
		wantBody     string // exact body, or a substring when the status is not 200
		wantLanguage string
	}{
		{name: "root, no Accept-Language", target: "/", wantStatus: 200, wantBody: "Hello, world!\n", wantLanguage: "en"},
		{name: "hello, no name", target: "/hello", wantStatus: 200, wantBody: "Hello, world!\n", wantLanguage: "en"},
		{name: "regional variant matches its language", target: "/hello?name=Ada", accept: []string{"de-CH, en;q=0.5"}, wantStatus: 200, wantBody: "Hallo, Ada!\n", wantLanguage: "de"},
		{name: "quality values order the choices", target: "/hello?name=Ada", accept: []string{"fr;q=0.5, ja;q=0.9"}, wantStatus: 200, wantBody: "こんにちは、Adaさん！\n", wantLanguage: "ja"},
		{name: "French typography", target: "/hello", accept: []string{"fr-BE"}, wantStatus: 200, wantBody: "Bonjour le monde\u202f!\n", wantLanguage: "fr"},
		{name: "Latin American Spanish", target: "/hello?name=Ana", accept: []string{"es-419"}, wantStatus: 200, wantBody: "¡Hola, Ana!\n", wantLanguage: "es"},
		{name: "unsupported language falls back to English", target: "/hello", accept: []string{"zh-CN"}, wantStatus: 200, wantBody: "Hello, world!\n", wantLanguage: "en"},
		{name: "wildcard", target: "/hello", accept: []string{"*"}, wantStatus: 200, wantBody: "Hello, world!\n", wantLanguage: "en"},
		{name: "malformed header falls back to English", target: "/hello", accept: []string{";;q=x,,"}, wantStatus: 200, wantBody: "Hello, world!\n", wantLanguage: "en"},
		{name: "several header lines are one list", target: "/hello", accept: []string{"zh", "es"}, wantStatus: 200, wantBody: "¡Hola, mundo!\n", wantLanguage: "es"},
		{name: "lang parameter wins over the header", target: "/hello?lang=es&name=Ana", accept: []string{"de"}, wantStatus: 200, wantBody: "¡Hola, Ana!\n", wantLanguage: "es"},
		{name: "unknown lang parameter falls back to the header", target: "/hello?lang=xx", accept: []string{"de"}, wantStatus: 200, wantBody: "Hallo, Welt!\n", wantLanguage: "de"},
		{name: "decomposed name is normalized to NFC", target: "/hello?name=Jose%CC%81", wantStatus: 200, wantBody: "Hello, Jos\u00e9!\n", wantLanguage: "en"},
		{name: "white space is collapsed", target: "/hello?name=%20%20Ada%09%20Lovelace%20", wantStatus: 200, wantBody: "Hello, Ada Lovelace!\n", wantLanguage: "en"},
		{name: "blank name greets the world", target: "/hello?name=%20%20", wantStatus: 200, wantBody: "Hello, world!\n", wantLanguage: "en"},
		{name: "emoji ZWJ sequence is a name", target: "/hello?name=%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB", wantStatus: 200, wantBody: "Hello, 👩\u200d💻!\n", wantLanguage: "en"},
		{name: "64 characters", target: "/hello?name=" + strings.Repeat("%C3%A9", 64), wantStatus: 200, wantBody: "Hello, " + strings.Repeat("é", 64) + "!\n", wantLanguage: "en"},
		{name: "65 characters", target: "/hello?name=" + strings.Repeat("a", 65), wantStatus: 400, wantBody: "limit is 64"},
		{name: "control character", target: "/hello?name=Ada%07", wantStatus: 400, wantBody: "U+0007"},
		{name: "bidirectional override", target: "/hello?name=%E2%80%AEadA", wantStatus: 400, wantBody: "U+202E"},
		{name: "invalid UTF-8", target: "/hello?name=%FF", wantStatus: 400, wantBody: "not valid UTF-8"},
		{name: "POST is not allowed", method: "POST", target: "/hello", wantStatus: 405},
		{name: "unknown path", target: "/nope", wantStatus: 404},
	}
	h := (&service{logger: slog.New(slog.DiscardHandler)}).handler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, tt.target, nil)
			for _, v := range tt.accept {
				req.Header.Add("Accept-Language", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus != http.StatusOK {
				if !strings.Contains(rec.Body.String(), tt.wantBody) {
					t.Errorf("body = %q, want it to contain %q", rec.Body, tt.wantBody)
				}
				return
			}
			if got := rec.Body.String(); got != tt.wantBody {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
			for header, want := range map[string]string{
				"Content-Language": tt.wantLanguage,
				"Content-Type":     "text/plain; charset=utf-8",
				"Vary":             "Accept-Language",
			} {
				if got := rec.Header().Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
		})
	}
}

func TestNormalizeNameIsIdempotent(t *testing.T) {
	for _, raw := range []string{"Ada", "Jose\u0301", "  Zoë  Ünal ", "한국어", "Ǆemal"} {
		once, err := normalizeName(raw)
		if err != nil {
			t.Fatalf("normalizeName(%q): %v", raw, err)
		}
		twice, err := normalizeName(once)
		if err != nil || twice != once {
			t.Errorf("normalizeName(%q) = %q, normalized again %q, %v", raw, once, twice, err)
		}
	}
}
