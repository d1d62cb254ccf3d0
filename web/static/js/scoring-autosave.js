/* The member's score sheet saves itself as they type (issue 13): every change is queued, and 2 s after the
 * last change the queued cells go in one POST to /api/v1/expert/tenders/<id>/scoring/sheet. The server checks
 * each cell; the refused ones come back as problems naming their cell (the others are saved all the same),
 * shown under the cell in the member's language. A save that fails (the server did not answer) keeps its
 * cells queued and is sent again with the next change or after 10 s; leaving the page with unsaved cells asks
 * first. The page reloads the saved values from the server, so a closed browser loses nothing saved. */
(function () {
  "use strict";
  const form = document.getElementById("scoring-sheet");
  if (!form) return;
  const labels = JSON.parse(document.getElementById("scoring-labels").textContent);
  const status = document.getElementById("autosave-status");
  const url = `/api/v1/expert/tenders/${form.dataset.tender}/scoring/sheet`;
  const DEBOUNCE_MS = 2000;
  const RETRY_MS = 10000;
  const queued = new Map(); // input name -> {bid, factor, value}
  let timer = null;
  let busy = false;

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)etender_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function say(text, warn) {
    status.textContent = text;
    status.className = warn ? "warn" : "hint";
  }

  function fill(template, params) {
    return template.replace(/%\((\w+)\)s/g, (_, k) => (k in params ? params[k] : ""));
  }

  function showError(name, message) {
    const input = form.elements[name];
    if (!input) return;
    const cell = input.parentElement;
    let box = cell.querySelector(".field-error");
    if (message) {
      if (!box) {
        box = document.createElement("div");
        box.className = "field-error";
        cell.appendChild(box);
      }
      box.textContent = message;
      cell.classList.add("invalid");
    } else {
      if (box) box.remove();
      cell.classList.remove("invalid");
    }
  }

  function schedule(ms) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, ms);
  }

  async function flush() {
    timer = null;
    if (busy || queued.size === 0) return;
    busy = true;
    const sending = new Map(queued);
    queued.clear();
    say(labels.saving, false);
    try {
      const r = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrftoken": csrf() },
        body: JSON.stringify({ entries: Array.from(sending.values()) }),
      });
      const doc = await r.json().catch(() => ({}));
      if (r.status !== 200 && r.status !== 422) {
        throw new Error((doc.error && doc.error.message) || String(r.status));
      }
      for (const name of doc.saved || []) showError(name, "");
      const refused = (doc.error && doc.error.problems) || [];
      for (const p of refused) if (p.field) showError(p.field, p.message);
      const time = new Date(doc.saved_at).toLocaleTimeString();
      if (refused.length) {
        say(fill(labels.failed, { reason: refused[0].message }), true);
      } else {
        say(fill(labels.saved, { time }), false);
      }
    } catch (e) {
      // nothing is lost: the cells go back into the queue unless the member changed them again meanwhile
      for (const [name, entry] of sending) if (!queued.has(name)) queued.set(name, entry);
      say(fill(labels.failed, { reason: e instanceof TypeError ? labels.offline : e.message }), true);
      schedule(RETRY_MS);
    } finally {
      busy = false;
      if (queued.size && !timer) schedule(DEBOUNCE_MS);
    }
  }

  form.addEventListener("input", (event) => {
    const input = event.target;
    if (!input.dataset || input.dataset.bid === undefined) return;
    const value = input.value.trim();
    queued.set(input.name, {
      bid: Number(input.dataset.bid),
      factor: Number(input.dataset.factor),
      value: value === "" ? null : value,
    });
    schedule(DEBOUNCE_MS);
  });

  // the form itself is the script-less fallback: with the script, saving is the autosave's
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    schedule(0);
  });

  window.addEventListener("beforeunload", (event) => {
    if (queued.size || busy) {
      flush();
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
