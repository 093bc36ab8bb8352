package httpauth

import (
	"html"
	"net/http"
)

// loginPage writes the sign-in form, with msg (plain text) above it.
func loginPage(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(code)
	note := ""
	if msg != "" {
		note = `<p role="alert">` + html.EscapeString(msg) + `</p>`
	}
	_, _ = w.Write([]byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>squall: sign in</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto}input,button{font:inherit;width:100%;margin:.3rem 0}</style>
</head><body>
<h1>squall</h1>
` + note + `<form method="post" action="` + LoginPath + `">
<label for="token">Admin token (--admin-token, or the certs dir's admin-token)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</body></html>
`))
}
