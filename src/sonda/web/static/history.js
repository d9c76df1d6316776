// The list of past analyses: a status filter, refresh, delete, a click that opens an
// analysis' report, and two completed analyses picked to be compared.

import { api } from "./api.js";
import { clear, h, num, when } from "./dom.js";

/**
 * Wire the list. els: {list, filter, refresh, more, compare}; onOpen(item) opens a report,
 * onCompare(base, target) compares two picked analyses (the first picked is the base),
 * onError(err) shows an error. Returns {reload(), follow(item)}.
 */
/** How long a first press of Delete waits for the second. */
const CONFIRM_MS = 8000;

export function setupHistory(els, { onOpen, onCompare, onError, onDeleted = () => {} }) {
  let cursor = null;
  // Loads overlap (one on upload, one on completion): only the newest may fill the list, or an
  // older answer, without the new analysis, would land last and hide it.
  let latest = 0;
  // Picked analyses in the order they were picked: [base, target].
  let picked = [];
  // The analysis this page started or watches, as the page last heard of it (a status read at the
  // version a notification carried). The list is a read model that may not have seen it yet; the
  // page shows it anyway, so the list never lacks what the page just announced.
  let followed = null;
  // The analysis whose Delete was pressed once, and the timer that withdraws the question. Kept
  // here, not in its row: a list reload in between (a completion, a refresh) draws the row anew,
  // and the second press must still delete.
  let armed = null;

  const itemOf = (id) => [...els.list.querySelectorAll(".analysis-item")].find((li) => li.dataset.analysisId === id);
  const wanted = (item) => !els.filter.value || String(item.status || "") === els.filter.value;

  /** Put the followed analysis in the list, unless the list holds it at least as new: then the read
   * model has caught up and is trusted from there on (a later deletion elsewhere shows). Only a row
   * the list itself answered counts as caught up: the row this function drew for a second report of
   * the same version is the page's own, and trusting it dropped the analysis at the next reload. */
  function showFollowed() {
    if (!followed) return;
    const listed = itemOf(followed.analysis_id);
    const fromList = listed && listed.dataset.followed !== "true";
    if (fromList && Number(listed.dataset.version || 0) >= Number(followed.version || 0)) {
      followed = null;
      return;
    }
    if (!wanted(followed)) {
      if (listed) listed.remove();
      return;
    }
    const drawn = row(followed);
    drawn.dataset.followed = "true";
    if (listed) {
      listed.replaceWith(drawn);
    } else {
      for (const empty of els.list.querySelectorAll(".empty")) empty.remove();
      els.list.prepend(drawn); // the newest analysis: the list is newest first
    }
    syncPicks();
  }

  function labelDelete(button, on) {
    const name = button.dataset.name;
    button.textContent = on ? "Confirm delete" : "Delete";
    button.setAttribute("aria-label", on ? `Press again to delete the analysis of ${name}` : `Delete the analysis of ${name}`);
    button.classList.toggle("armed", on);
  }

  function disarm() {
    if (!armed) return;
    clearTimeout(armed.timer);
    const li = itemOf(armed.id);
    armed = null;
    const button = li && li.querySelector(".delete-analysis");
    if (button) labelDelete(button, false);
  }

  function syncPicks() {
    for (const box of els.list.querySelectorAll(".compare-pick")) {
      box.checked = picked.some((p) => p.analysis_id === box.dataset.analysisId);
    }
    if (els.compare) els.compare.disabled = picked.length !== 2;
  }

  function pick(item, on) {
    picked = picked.filter((p) => p.analysis_id !== item.analysis_id);
    if (on) picked = [...picked, item].slice(-2);
    syncPicks();
  }

  async function load(append = false) {
    const mine = ++latest;
    els.list.setAttribute("aria-busy", "true");
    try {
      const page = await api.list({ status: els.filter.value, cursor: append ? cursor : "" });
      if (mine !== latest) return;
      const items = (page && Array.isArray(page.items) ? page.items : []).filter(Boolean);
      cursor = page && page.next_cursor ? page.next_cursor : null;
      if (!append) clear(els.list);
      for (const item of items) {
        // A later page may hold the followed analysis the page already put on top.
        const shown = append ? itemOf(item.analysis_id) : null;
        if (shown) shown.replaceWith(row(item));
        else els.list.append(row(item));
      }
      showFollowed();
      if (!els.list.querySelector(".analysis-item") && !els.list.querySelector(".empty")) {
        els.list.append(h("li", { class: "muted empty" }, "No analyses yet."));
      }
      els.more.hidden = !cursor;
      syncPicks();
    } catch (err) {
      if (mine === latest) onError(err);
    } finally {
      if (mine === latest) els.list.removeAttribute("aria-busy");
    }
  }

  function row(item) {
    const status = String(item.status || "unknown");
    const name = item.filename || item.file_key || item.analysis_id;
    const shape = item.rows !== null && item.rows !== undefined
      ? `${num(item.rows)} rows × ${num(item.columns)} columns`
      : "";
    const progress = status === "running" || status === "pending"
      ? ` · ${num(item.progress ?? 0)}%` : "";
    const open = h("button", {
      type: "button",
      class: "link-button open-analysis",
      "aria-label": `Open the report of ${name}`,
      onclick: () => onOpen(item),
    }, name);
    // Two steps instead of a modal: the first press asks, the second (within a few seconds)
    // deletes; keyboard users and automated browsers get the same confirmation.
    const mine = () => armed !== null && armed.id === item.analysis_id;
    const del = h("button", {
      type: "button",
      class: "delete-analysis danger",
      "data-analysis-id": item.analysis_id,
      "data-name": name,
      "aria-label": `Delete the analysis of ${name}`,
      // Leaving the button withdraws the question; a row drawn anew (a reload) does not: the
      // browser blurs a focused button as it is removed, so look once the removal is done.
      onblur: () => setTimeout(() => del.isConnected && document.activeElement !== del && mine() && disarm(), 0),
      onclick: async (event) => {
        event.stopPropagation();
        if (!mine()) {
          disarm();
          armed = { id: item.analysis_id, timer: setTimeout(disarm, CONFIRM_MS) };
          labelDelete(del, true);
          return;
        }
        clearTimeout(armed.timer);
        armed = null;
        del.disabled = true;
        try {
          await api.remove(item.analysis_id);
          li.remove();
          if (followed && followed.analysis_id === item.analysis_id) followed = null;
          pick(item, false);
          onDeleted(item.analysis_id);
          if (!els.list.querySelector(".analysis-item")) {
            els.list.append(h("li", { class: "muted empty" }, "No analyses yet."));
          }
        } catch (err) {
          del.disabled = false;
          labelDelete(del, false);
          onError(err);
        }
      },
    }, "Delete");
    if (mine()) labelDelete(del, true);
    const compare = status === "completed"
      ? h("label", { class: "compare-label small" },
        h("input", {
          type: "checkbox",
          class: "compare-pick",
          "data-analysis-id": item.analysis_id,
          "aria-label": `Compare ${name}`,
          onchange: (event) => pick(item, event.target.checked),
        }), " Compare")
      : null;
    const li = h("li", {
      class: "analysis-item",
      "data-analysis-id": item.analysis_id,
      "data-status": status,
      "data-version": Number.isInteger(item.version) ? item.version : 0,
    },
      h("div", { class: "analysis-main" },
        open,
        h("span", { class: `status status-${status.replace(/[^a-z_]/gi, "")}` }, status)),
      h("div", { class: "analysis-meta muted small" },
        `${when(item.created_at)}${shape ? ` · ${shape}` : ""}${progress}`,
        item.error_message ? h("span", { class: "analysis-error" }, ` · ${item.error_message}`) : null),
      compare,
      del);
    return li;
  }

  els.filter.addEventListener("change", () => load(false));
  els.refresh.addEventListener("click", () => load(false));
  els.more.addEventListener("click", () => load(true));
  if (els.compare) {
    els.compare.addEventListener("click", () => {
      if (picked.length === 2) onCompare(picked[0], picked[1]);
    });
  }
  return {
    reload: () => load(false),
    follow: (item) => {
      if (!item || !item.analysis_id) return;
      // Two reads of one analysis may answer out of order: the newer state stays.
      const same = followed && followed.analysis_id === item.analysis_id;
      if (same && Number(item.version || 0) < Number(followed.version || 0)) return;
      followed = item;
      showFollowed();
    },
  };
}
