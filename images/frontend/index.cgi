#!/bin/sh
# The frontend's page: busybox httpd runs this CGI script for every request
# to "/". It fetches $BACKEND_ENDPOINT with busybox wget (name lookups go
# through glibc's built-in "files" and "dns" sources, see recipe.json) and
# embeds the answer, or the error, in the page.
pod="${HOSTNAME:-$(hostname)}"
endpoint="${BACKEND_ENDPOINT:-http://backend}"
# Why stderr: httpd passes a CGI script's stderr on to its own, which is the container's log (kubectl logs).
echo "GET /: answered as $pod, asking $endpoint" >&2
# Why `timeout` and not `wget -T`: Debian 12's busybox-static 1.35 wget crashes
# (SIGSEGV) when given -T.
if answer="$(timeout 3 wget -q -O- "$endpoint" 2>&1)"; then status="ok"; else status="error"; fi
# Why escape: the answer is embedded in HTML and may contain < or &.
answer="$(printf '%s' "$answer" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g')"
# Why CRLF: HTTP header lines end in CR LF; strict parsers (Node's among them) refuse a bare LF.
printf 'Content-Type: text/html\r\n\r\n'
cat <<PAGE
<!DOCTYPE html>
<html>
<head><title>frontend v0.0.1</title></head>
<body>
<h1>frontend v0.0.1</h1>
<p>Served by Pod <b>$pod</b>.</p>
<p>Backend ($endpoint) said ($status):</p>
<pre id="backend">$answer</pre>
</body>
</html>
PAGE
