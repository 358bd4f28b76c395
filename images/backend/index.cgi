#!/bin/sh
# The backend's one endpoint: busybox httpd runs this CGI script for every
# request to "/" (httpd falls back to /cgi-bin/index.cgi when a directory has
# no index.html). It names the Pod that answered, so that load balancing
# across replicas is visible. HOSTNAME is set by the runtime to the Pod's name.
pod="${HOSTNAME:-$(hostname)}"
# Why stderr: httpd passes a CGI script's stderr on to its own, which is the container's log (kubectl logs).
echo "GET /: answered as $pod" >&2
# Why CRLF: HTTP header lines end in CR LF; strict parsers (Node's among them) refuse a bare LF.
printf 'Content-Type: application/json\r\n\r\n'
printf '{"pod": "%s", "app": "backend", "version": "v0.0.1"}\n' "$pod"
