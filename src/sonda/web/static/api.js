// The HTTP side of the page: every call to the Sonda API, on the page's own origin.
// Errors come back as JSON problem bodies {title, status, detail, code}; they are turned
// into ApiError so the page can show the detail in words.

const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(message, { status = 0, code = "", title = "" } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.title = title;
  }
}

/** Build an ApiError from a response whose status is not 2xx. */
async function problem(response, what) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return problemFromBody(body, response.status, response.statusText, what);
}

function atLeast(version, sep) {
  return Number.isInteger(version) && version > 0 ? `${sep}min_version=${version}` : "";
}

function problemFromBody(body, status, statusText, what) {
  const detail = body && (body.detail || body.title || body.message || body.error);
  const text =
    typeof detail === "string" && detail
      ? detail
      : `${what} failed: the server answered ${status}${statusText ? ` ${statusText}` : ""}.`;
  return new ApiError(text, {
    status,
    code: (body && body.code) || "",
    title: (body && body.title) || "",
  });
}

async function call(method, path, what, body) {
  const init = { method, headers: { Accept: "application/json" } };
  // Every change is sent as JSON, even without a body (a DELETE): without API keys Sonda refuses
  // other state-changing requests, which is what keeps pages elsewhere from forging them (CSRF).
  if (method !== "GET") init.headers["Content-Type"] = "application/json";
  if (body !== undefined) init.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (err) {
    throw new ApiError(`${what} failed: the server could not be reached (${err.message}).`);
  }
  if (!response.ok) throw await problem(response, what);
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(`${what} failed: the server sent an answer that is not JSON.`);
  }
}

const enc = encodeURIComponent;

export const api = {
  presignedUpload: (filename) =>
    call("GET", `/r2/presigned-upload?filename=${enc(filename)}`, "Preparing the upload"),
  startAnalysis: (fileKey) =>
    call("POST", "/analysis/start-enhanced", "Starting the analysis", {
      file_key: fileKey,
      analysis_type: "basic_eda",
      options: {},
    }),
  // `version`: as for the results, a status at least as new as a notification the page received.
  status: (id, version) =>
    call("GET", `/analysis/status-enhanced/${enc(id)}${atLeast(version, "?")}`, "Reading the status"),
  // `version`: the one a WebSocket message carried; the answer is at least that new.
  results: (id, version) =>
    call("GET", `/analysis/results-enhanced/${enc(id)}${atLeast(version, "?")}`, "Loading the report"),
  llmSummary: (id, version) =>
    call(
      "GET",
      `/analysis/summary-for-llm/${enc(id)}?format=markdown${atLeast(version, "&")}`,
      "Loading the LLM summary",
    ),
  list: ({ status = "", limit = 50, cursor = "" } = {}) => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (status) q.set("status", status);
    if (cursor) q.set("cursor", cursor);
    return call("GET", `/analysis/list?${q}`, "Listing analyses");
  },
  remove: (id) => call("DELETE", `/analysis/${enc(id)}`, "Deleting the analysis"),
  compare: (base, target) =>
    call("GET", `/analysis/compare?base=${enc(base)}&target=${enc(target)}`, "Comparing the analyses"),
};

/**
 * PUT a file to a (presigned) URL with XMLHttpRequest, because fetch cannot report
 * upload progress. onProgress receives a fraction 0–1.
 */
export function uploadFile(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    // No explicit Content-Type: the browser sends the File's own type, which is what a
    // presigned URL that does not sign the header accepts.
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = s3Error(xhr.responseText);
      }
      reject(problemFromBody(body, xhr.status, xhr.statusText, "Uploading the file"));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError("Uploading the file failed: the storage could not be reached.")),
    );
    xhr.addEventListener("abort", () => reject(new ApiError("The upload was cancelled.")));
    xhr.send(file);
  });
}

/** S3-compatible stores answer errors in XML: pull out <Message> if present. */
function s3Error(text) {
  if (!text) return null;
  const match = /<Message>([^<]*)<\/Message>/.exec(text);
  return match ? { detail: `Uploading the file failed: ${match[1]}` } : null;
}
