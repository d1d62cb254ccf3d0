/* A party's random number for a committee draw (etender-draw-2, docs/expert-draw.md "The protocol"), made and
 * kept in this browser. Step 1: 32 bytes from crypto.getRandomValues, kept in localStorage under the draw and
 * the party BEFORE anything is sent, then only their SHA-256 (WebCrypto) is posted as the commitment. Step 2:
 * the page polls the draw; once every party has committed it posts the value itself, which the server checks
 * against the commitment. A page reopened later reveals from localStorage. The value leaves the browser only
 * in step 2, when no party can change its commitment any more. */
(function () {
  "use strict";
  const box = document.getElementById("draw-contribution");
  if (!box) return;
  const labels = JSON.parse(document.getElementById("draw-labels").textContent);
  const draw = box.dataset.draw;
  const party = box.dataset.party;
  const key = `etender-draw-${draw}-${party}`;
  const button = document.getElementById("draw-commit");
  const status = document.getElementById("draw-status");
  const POLL_MS = 3000;
  let busy = false;

  function say(text, warn) {
    status.textContent = text;
    status.className = warn ? "warn" : "";
  }

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)etender_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function hex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function unhex(text) {
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
    return out;
  }

  async function sha256hex(bytes) {
    return hex(await crypto.subtle.digest("SHA-256", bytes));
  }

  async function call(method, path, body) {
    const r = await fetch(path, {
      method, credentials: "same-origin",
      headers: body ? { "content-type": "application/json", "x-csrftoken": csrf() } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const doc = await r.json().catch(() => ({}));
    if (!r.ok) {
      throw new Error((doc.error && doc.error.message) || String(r.status));
    }
    return doc;
  }

  function stored() {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }

  function showStates(doc) {
    // the list above: each party's step, in the words the page was rendered with
    for (const p of doc.parties) {
      const state = document.querySelector(`#draw-parties li[data-party-role="${p.role}"] .party-state`);
      if (!state) continue;
      const step = p.revealed ? "revealed" : (p.committed ? "committed" : "none");
      if (state.dataset.step !== step) {
        state.dataset.step = step;
        state.textContent = labels.states[step];
      }
    }
  }

  async function commit() {
    if (busy) return;
    busy = true;
    button.disabled = true;
    say(labels.committing);
    try {
      let value = stored();
      if (!value) {
        const bytes = new Uint8Array(32);
        crypto.getRandomValues(bytes);
        value = hex(bytes);
        localStorage.setItem(key, value);  // kept first: a value posted as a commitment must never be lost here
      }
      const commitment = await sha256hex(unhex(value));
      await call("POST", `/draws/${draw}/contributions/commit`, { commitment });
      box.dataset.commitment = commitment;
      location.reload();  // the list above shows the fingerprint; the poll goes on from the reloaded page
    } catch (e) {
      say(`${labels.failed} ${e.message}`, true);
      button.disabled = false;
    } finally {
      busy = false;
    }
  }

  async function step() {
    if (busy) return;
    let doc;
    try {
      doc = await call("GET", `/draws/${draw}/contributions`);
    } catch (e) {
      say(`${labels.failed} ${e.message}`, true);
      return;
    }
    showStates(doc);
    if (doc.status !== "collecting") {
      say(labels.drawn);
      location.reload();  // the page shows what became of the draw
      return;
    }
    const mine = doc.parties.find((p) => p.mine);
    if (!mine) return;
    if (!mine.committed) {
      button.hidden = false;
      return;
    }
    button.hidden = true;
    const value = stored();
    if (!value || (await sha256hex(unhex(value))) !== mine.commitment) {
      say(labels.lost, true);
      return;
    }
    if (mine.revealed) {
      const others = doc.parties.filter((p) => !p.revealed).length;
      say(others ? labels.shown : labels.drawn);
      return;
    }
    if (!doc.all_committed) {
      say(labels.waiting);
      return;
    }
    busy = true;
    say(labels.revealing);
    try {
      const done = await call("POST", `/draws/${draw}/contributions/reveal`, { value });
      if (done.status !== "collecting") {
        location.reload();
        return;
      }
      say(labels.shown);
      setTimeout(step, 0);  // once this one is done: the list above shows the number as shown
    } catch (e) {
      say(`${labels.failed} ${e.message}`, true);
    } finally {
      busy = false;
    }
  }

  if (!window.crypto || !crypto.subtle || !crypto.getRandomValues) {
    say(labels.no_crypto, true);
    return;
  }
  button.addEventListener("click", commit);
  step();
  setInterval(step, POLL_MS);
})();
