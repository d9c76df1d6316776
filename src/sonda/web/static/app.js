// Entry point: wires the upload, the live progress, the report and the history list.
// State lives in one object created here and passed around; nothing global beyond it.

import { api, ApiError, uploadFile } from "./api.js";
import { copyText } from "./clipboard.js";
import { renderComparison } from "./compare.js";
import { clear, num } from "./dom.js";
import { setupHistory } from "./history.js";
import { followAnalysis } from "./live.js";
import { renderReport } from "./report.js";

const STATUS_POLL_MS = 2000;
const MAX_NOT_FOUND_POLLS = 10;

function elements() {
  const $ = (id) => document.getElementById(id);
  return {
    drop: $("drop-zone"),
    input: $("file-input"),
    error: $("error"),
    errorText: $("error-text"),
    errorDismiss: $("error-dismiss"),
    progressPanel: $("progress-panel"),
    upload: $("upload-progress"),
    uploadPct: $("upload-percent"),
    analysis: $("analysis-progress"),
    analysisPct: $("analysis-percent"),
    stage: $("analysis-stage"),
    message: $("analysis-message"),
    connection: $("connection-state"),
    report: $("report"),
    reportBody: $("report-body"),
    llm: $("llm-summary"),
    llmTokens: $("llm-tokens"),
    copy: $("copy-summary"),
    copyStatus: $("copy-status"),
    list: $("analyses-list"),
    filter: $("status-filter"),
    refresh: $("refresh-analyses"),
    more: $("more-analyses"),
    compare: $("compare-selected"),
    comparison: $("comparison"),
  };
}

function createApp(el) {
  // `run` increases with every new upload or opened analysis, so late answers of an
  // older one never overwrite what the person is looking at now.
  const state = { run: 0, follower: null, poller: null, busy: false, shown: null };

  /** Take the report off the page: a failure, a new upload or a deletion must not leave an old one. */
  function hideReport() {
    el.report.hidden = true;
    clear(el.reportBody);
    state.shown = null;
    document.title = "Sonda";
  }
  let history = null;

  function showError(err) {
    const text = err instanceof Error ? err.message : String(err);
    el.errorText.textContent = text || "Something went wrong.";
    el.error.dataset.code = err instanceof ApiError ? err.code : "";
    el.error.hidden = false;
  }

  function hideError() {
    el.error.hidden = true;
    el.errorText.textContent = "";
  }

  function setUpload(fraction) {
    const v = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
    el.upload.value = v;
    el.upload.textContent = `${v}%`;
    el.uploadPct.textContent = `${v}%`;
  }

  function setAnalysis(progress, stage, message) {
    if (typeof progress === "number" && Number.isFinite(progress)) {
      const v = Math.max(0, Math.min(100, Math.round(progress)));
      el.analysis.value = v;
      el.analysis.textContent = `${v}%`;
      el.analysisPct.textContent = `${v}%`;
    }
    if (stage) el.stage.textContent = humanStage(stage);
    el.message.textContent = message ? ` — ${message}` : "";
  }

  /** The history lists what the page was just told of: the analysis' status read at the version
   * the notification carried (the list itself is a read model that can lag behind), then the list
   * again. `known` stands in when the status cannot be read. */
  async function listFollowed(analysisId, version, known) {
    try {
      const st = await api.status(analysisId, version);
      history?.follow(st && st.analysis_id ? st : known);
    } catch {
      history?.follow(known);
    }
    history?.reload();
  }

  function stopFollowing() {
    if (state.follower) state.follower.close();
    state.follower = null;
    clearInterval(state.poller);
    state.poller = null;
  }

  function resetProgress() {
    el.progressPanel.hidden = false;
    setUpload(0);
    setAnalysis(0, "Waiting", "");
    el.connection.textContent = "";
  }

  async function analyseFile(file) {
    if (!file) return;
    if (state.busy) {
      showError("An upload is already running; wait for it to finish.");
      return;
    }
    stopFollowing();
    hideError();
    hideReport();
    const run = ++state.run;
    state.busy = true;
    el.drop.setAttribute("aria-disabled", "true");
    resetProgress();
    try {
      el.stage.textContent = "Preparing the upload";
      const target = await api.presignedUpload(file.name);
      el.stage.textContent = `Uploading ${file.name}`;
      await uploadFile(target.upload_url, file, setUpload);
      el.stage.textContent = "Starting the analysis";
      const started = await api.startAnalysis(target.file_key);
      if (run !== state.run) return;
      setAnalysis(0, started.status || "pending", "");
      listFollowed(started.analysis_id, 1, {
        analysis_id: started.analysis_id, file_key: target.file_key, filename: file.name,
        status: started.status || "pending", progress: 0, created_at: new Date().toISOString(), version: 1,
      });
      watch(started.analysis_id, { filename: file.name, file_key: target.file_key }, run);
    } catch (err) {
      if (run === state.run) {
        el.stage.textContent = "Stopped";
        showError(err);
      }
    } finally {
      state.busy = false;
      el.drop.removeAttribute("aria-disabled");
      el.input.value = "";
    }
  }

  /** Follow an analysis live until it ends, then show its report. */
  function watch(analysisId, meta, run) {
    location.hash = `analysis=${encodeURIComponent(analysisId)}`;
    let done = false;
    // `version` is what the notification said: the query service answers with at least it.
    const finishOk = (message) => {
      if (done || run !== state.run) return;
      done = true;
      stopFollowing();
      el.connection.textContent = "";
      setAnalysis(100, "completed", "");
      listFollowed(analysisId, message && message.version, null);
      showReport(analysisId, meta, run, message && message.version);
    };
    const finishFailed = (text, code, version) => {
      if (done || run !== state.run) return;
      done = true;
      stopFollowing();
      el.connection.textContent = "";
      el.stage.textContent = "Failed";
      el.message.textContent = "";
      hideReport();
      listFollowed(analysisId, version, null);
      showError(new ApiError(text || "The analysis failed.", { code: code || "" }));
    };
    state.follower = followAnalysis(analysisId, {
      onStatus: (m) => run === state.run && setAnalysis(m.progress, m.stage || m.status, m.message),
      onCompleted: finishOk,
      onFailed: (m) => finishFailed(m.error_message, m.error_code, m.version),
      onConnection: (s) => {
        if (run !== state.run) return;
        el.connection.textContent = CONNECTION_TEXT[s] || "";
        // While the socket is down, ask the query service instead, so a notifier outage
        // never leaves the page waiting.
        if ((s === "retrying" || s === "lost") && !state.poller) {
          const misses = { count: 0 };
          state.poller = setInterval(
            () => poll(analysisId, run, misses, finishOk, finishFailed),
            STATUS_POLL_MS,
          );
        } else if (s === "open" && state.poller) {
          clearInterval(state.poller);
          state.poller = null;
        }
      },
    });
  }

  async function poll(analysisId, run, misses, finishOk, finishFailed) {
    try {
      const st = await api.status(analysisId);
      if (run !== state.run || !st) return;
      const status = String(st.status || "");
      setAnalysis(st.progress, st.stage || status, st.message);
      if (status === "completed") finishOk(st);
      else if (status === "failed") finishFailed(st.error_message, st.error_code, st.version);
      else if (status === "deleted") finishFailed("This analysis was deleted.", "deleted");
    } catch (err) {
      // A fresh analysis may not be projected yet; only a lasting "not found" is final.
      if (err instanceof ApiError && err.status === 404 && ++misses.count >= MAX_NOT_FOUND_POLLS) {
        finishFailed(err.message, err.code);
      }
    }
  }

  async function showReport(analysisId, meta, run, version) {
    state.shown = analysisId;
    el.report.hidden = false;
    el.report.setAttribute("aria-busy", "true");
    el.llm.textContent = "Loading…";
    el.llmTokens.textContent = "";
    el.copy.disabled = true;
    try {
      const answer = await api.results(analysisId, version);
      if (run !== state.run) return;
      const result = answer && answer.results ? answer.results : answer;
      renderReport(el.reportBody, result, {
        analysis_id: analysisId,
        filename: meta.filename || (answer && answer.filename),
        file_key: meta.file_key || (answer && answer.file_key),
      });
    } catch (err) {
      if (run === state.run) showError(err);
    } finally {
      if (run === state.run) el.report.setAttribute("aria-busy", "false");
    }
    try {
      const summary = await api.llmSummary(analysisId, version);
      if (run !== state.run) return;
      el.llm.textContent = (summary && summary.text) || "No summary.";
      if (summary && typeof summary.tokens === "number") {
        el.llmTokens.textContent = `${num(summary.tokens)} tokens`;
      }
      el.copy.disabled = !(summary && summary.text);
    } catch (err) {
      if (run === state.run) {
        el.llm.textContent = "The summary could not be loaded.";
        showError(err);
      }
    }
  }

  /** Two analyses side by side: the comparison, with both stored results for the charts. */
  async function compare(base, target) {
    stopFollowing();
    hideError();
    const run = ++state.run;
    el.report.hidden = true;
    el.comparison.hidden = false;
    el.comparison.setAttribute("aria-busy", "true");
    try {
      const [comparison, a, b] = await Promise.all([
        api.compare(base.analysis_id, target.analysis_id),
        api.results(base.analysis_id),
        api.results(target.analysis_id),
      ]);
      if (run !== state.run) return;
      renderComparison(el.comparison, comparison, { base: a && a.results, target: b && b.results });
      el.comparison.scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (err) {
      if (run === state.run) {
        el.comparison.hidden = true;
        showError(err);
      }
    } finally {
      if (run === state.run) el.comparison.setAttribute("aria-busy", "false");
    }
  }

  /** Open an analysis from the list (or the address bar). */
  function open(item) {
    stopFollowing();
    hideError();
    const run = ++state.run;
    el.comparison.hidden = true;
    const meta = { filename: item.filename, file_key: item.file_key };
    const status = String(item.status || "");
    if (status === "completed") {
      location.hash = `analysis=${encodeURIComponent(item.analysis_id)}`;
      el.progressPanel.hidden = true;
      showReport(item.analysis_id, meta, run);
      el.report.scrollIntoView({ behavior: "smooth", block: "start" });
    } else if (status === "failed") {
      hideReport();
      showError(item.error_message || "This analysis failed.");
    } else {
      hideReport();
      resetProgress();
      setUpload(1);
      setAnalysis(item.progress ?? 0, status || "pending", "");
      watch(item.analysis_id, meta, run);
    }
  }

  async function openFromHash() {
    const match = /analysis=([^&]+)/.exec(location.hash);
    if (!match) return;
    const id = decodeURIComponent(match[1]);
    try {
      const st = await api.status(id);
      open({ analysis_id: id, ...(st || {}), status: (st && st.status) || "completed" });
    } catch {
      // An old or deleted analysis in the address bar: start with an empty page.
      history?.reload();
    }
  }

  function wireDropZone() {
    const pick = () => {
      if (!state.busy) el.input.click();
    };
    el.drop.addEventListener("click", pick);
    el.drop.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        pick();
      }
    });
    for (const name of ["dragenter", "dragover"]) {
      el.drop.addEventListener(name, (e) => {
        e.preventDefault();
        el.drop.classList.add("dragging");
      });
    }
    for (const name of ["dragleave", "dragend"]) {
      el.drop.addEventListener(name, () => el.drop.classList.remove("dragging"));
    }
    el.drop.addEventListener("drop", (e) => {
      e.preventDefault();
      el.drop.classList.remove("dragging");
      const files = e.dataTransfer ? e.dataTransfer.files : null;
      if (!files || files.length === 0) return;
      if (files.length > 1) showError("Drop one file at a time; only the first one is analysed.");
      analyseFile(files[0]);
    });
    // A file dropped beside the zone must not make the browser navigate away.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => e.preventDefault());
    el.input.addEventListener("change", () => analyseFile(el.input.files && el.input.files[0]));
  }

  function wireCopy() {
    el.copy.addEventListener("click", async () => {
      const ok = await copyText(el.llm.textContent || "");
      el.copyStatus.textContent = ok ? "Copied" : "Copy failed: select the text and copy it by hand.";
      setTimeout(() => {
        el.copyStatus.textContent = "";
      }, 2500);
    });
  }

  /** Printing opens every folded group and detail: the stylesheet does it where the browser lets CSS
   * open a <details> (::details-content); elsewhere they are opened for the print and closed after. */
  function wirePrint() {
    if (window.CSS && CSS.supports && CSS.supports("selector(::details-content)")) return;
    let opened = [];
    window.addEventListener("beforeprint", () => {
      opened = [...document.querySelectorAll("details:not([open])")];
      for (const d of opened) d.open = true;
    });
    window.addEventListener("afterprint", () => {
      for (const d of opened) d.open = false;
      opened = [];
    });
  }

  /** The analysis just deleted was on screen: it goes, and so does its address. */
  function onDeleted(analysisId) {
    if (state.shown !== analysisId) return;
    stopFollowing();
    hideReport();
    window.history.replaceState(null, "", location.pathname + location.search);
  }

  function start() {
    wireDropZone();
    wireCopy();
    el.errorDismiss.addEventListener("click", hideError);
    history = setupHistory(
      { list: el.list, filter: el.filter, refresh: el.refresh, more: el.more, compare: el.compare },
      { onOpen: open, onCompare: compare, onError: showError, onDeleted },
    );
    history.reload();
    openFromHash();
    wirePrint();
    document.body.dataset.ready = "true";
  }

  return { start };
}

const CONNECTION_TEXT = {
  connecting: "Connecting for live progress…",
  open: "Live",
  retrying: "Connection lost; reconnecting…",
  lost: "Live updates unavailable; checking the status every few seconds.",
};

const STAGES = {
  pending: "Waiting in the queue",
  queued: "Waiting in the queue",
  started: "Started",
  running: "Running",
  reading: "Reading the file",
  loading: "Reading the file",
  parsing: "Reading the file",
  profiling: "Profiling columns",
  columns: "Profiling columns",
  correlations: "Computing correlations",
  alerts: "Looking for alerts",
  sample: "Taking a sample",
  writing: "Saving the results",
  saving: "Saving the results",
  completed: "Completed",
  failed: "Failed",
};

function humanStage(stage) {
  const key = String(stage).toLowerCase();
  if (STAGES[key]) return STAGES[key];
  const text = String(stage).replace(/[_-]+/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

createApp(elements()).start();
