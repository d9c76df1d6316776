#!/bin/sh
# Writes the proxy's basic-auth user file from SONDA_WEB_USER / SONDA_WEB_PASSWORD, unless one is
# mounted already (e.g. hashed with `htpasswd -nbB`). People sign in once in the browser; machines
# skip this with their own API key (see default.conf.template).
set -eu
file="${SONDA_HTPASSWD_PATH:-/tmp/sonda.htpasswd}"
if [ -n "${SONDA_WEB_HTPASSWD_FILE:-}" ] && [ -f "$SONDA_WEB_HTPASSWD_FILE" ]; then
  cp "$SONDA_WEB_HTPASSWD_FILE" "$file"
else
  : "${SONDA_WEB_USER:?set SONDA_WEB_USER}" "${SONDA_WEB_PASSWORD:?set SONDA_WEB_PASSWORD}"
  umask 077
  printf '%s:{PLAIN}%s\n' "$SONDA_WEB_USER" "$SONDA_WEB_PASSWORD" > "$file"
fi
