// Live progress of one analysis over the notifier's WebSocket.
// Each message carries `position` (the analysis' stream version); after a dropped
// connection the page reconnects with ?since=<last position> so it gets what it missed
// and nothing twice.

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
const MAX_ATTEMPTS = 12;
// Only these advance the resume position; connection_established and heartbeats may carry
// the server's current position, which would skip a backlog not yet received.
const STATE_TYPES = new Set(["analysis_status", "analysis_completed", "analysis_error"]);

/** The WebSocket URL on this page's origin (ws:// or wss://). */
export function socketUrl(analysisId, since) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const path = `/api/v1/analysis/websocket/${encodeURIComponent(analysisId)}`;
  const query = since === null || since === undefined ? "" : `?since=${encodeURIComponent(since)}`;
  return `${scheme}//${location.host}${path}${query}`;
}

/**
 * Follow one analysis. Handlers: onStatus({progress, stage, message}), onCompleted(msg),
 * onFailed(msg), onConnection(state: "connecting"|"open"|"retrying"|"lost").
 * Returns {close()}. Stops by itself after a completed or error message.
 */
export function followAnalysis(analysisId, handlers) {
  let socket = null;
  let lastPosition = null;
  let attempts = 0;
  let finished = false;
  let timer = null;

  const notify = (name, arg) => {
    if (typeof handlers[name] === "function") handlers[name](arg);
  };

  function connect() {
    notify("onConnection", attempts === 0 ? "connecting" : "retrying");
    socket = new WebSocket(socketUrl(analysisId, lastPosition));
    socket.addEventListener("open", () => {
      attempts = 0;
      notify("onConnection", "open");
    });
    socket.addEventListener("message", (event) => handle(event.data));
    socket.addEventListener("close", () => {
      socket = null;
      if (finished) return;
      attempts += 1;
      if (attempts > MAX_ATTEMPTS) {
        notify("onConnection", "lost");
        return;
      }
      const delay = RETRY_DELAYS_MS[Math.min(attempts - 1, RETRY_DELAYS_MS.length - 1)];
      notify("onConnection", "retrying");
      timer = setTimeout(connect, delay);
    });
  }

  function handle(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      return; // Not ours to interpret; a later message or the final fetch tells the truth.
    }
    if (!msg || typeof msg !== "object") return;
    const isState = STATE_TYPES.has(msg.type);
    if (isState && typeof msg.position === "number") {
      // A replayed message older than one already drawn changes nothing.
      if (lastPosition !== null && msg.position < lastPosition) return;
      lastPosition = msg.position;
    }
    switch (msg.type) {
      case "analysis_status":
        notify("onStatus", msg);
        break;
      case "analysis_completed":
        finish();
        notify("onCompleted", msg);
        break;
      case "analysis_error":
        finish();
        notify("onFailed", msg);
        break;
      case "ping":
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "pong" }));
        }
        break;
      default:
        // connection_established, heartbeat and anything newer: nothing to draw.
        break;
    }
  }

  function finish() {
    finished = true;
    clearTimeout(timer);
    if (socket) socket.close(1000, "done");
  }

  connect();
  return { close: finish };
}
