/* The opening ceremony page: live progress from the server-sent snapshot stream, and the key panel where a key
 * holder (or, under quorum+bidder, a bidder) opens its key file here, unwraps its parts of every bid from the
 * headers the server serves at the opening time, and submits only the parts. The private key never leaves. */
(function () {
  "use strict";
  const root = document.getElementById("ceremony");
  if (!root) return;
  const tender = root.dataset.tender;
  const labels = JSON.parse(document.getElementById("opening-labels").textContent);

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)etender_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // ------------------------------------------------------------ live progress
  function render(doc) {
    if (!doc || !doc.status) return;
    if (doc.status !== root.dataset.status && (doc.status === "failed" || !root.dataset.status)) { location.reload(); return; }
    if (doc.published && root.dataset.published !== "true") { location.reload(); return; }  // the record appears
    const p = doc.progress;
    if (!p) return;
    root.dataset.status = doc.status;
    const status = document.getElementById("opening-status");
    if (status) status.textContent = labels.openings[p.status] || p.status;
    const holders = document.getElementById("holders");
    if (holders) {
      holders.replaceChildren(...p.key_holders.map((h) => {
        const li = document.createElement("li");
        li.textContent = `${h.name}: ${h.parts} ${labels.parts}`;
        return li;
      }));
    }
    const checkIns = document.getElementById("check-ins");
    if (checkIns) checkIns.textContent = p.check_ins;
    const bids = document.getElementById("bid-progress");
    if (bids) {
      bids.replaceChildren(...p.bid_statuses.map((b) => {
        const li = document.createElement("li");
        li.dataset.status = b.status;
        li.textContent = labels.outcomes[b.status] || b.status;
        return li;
      }));
    }
  }

  function listen() {
    if (!window.EventSource) return;
    // the public state only (issue 16): the stream is for those who follow the opening; reload for the record
    if (root.dataset.public === "true") return;
    const source = new EventSource(`/tenders/${tender}/opening/stream`);
    source.addEventListener("snapshot", (e) => render(JSON.parse(e.data)));
    source.onerror = () => { /* the browser reconnects by itself; the first event after reconnecting is a fresh snapshot */ };
  }
  listen();

  // ------------------------------------------------------------ the key panel
  const panel = document.getElementById("key-panel");
  if (!panel) return;
  const status = document.getElementById("key-status");
  const refusals = document.getElementById("key-refusals");

  async function readFile(input) {
    const file = input.files && input.files[0];
    if (!file) throw new Error("no_file");
    return file.text();
  }

  async function post(doc) {
    const r = await fetch(`/tenders/${tender}/opening/parts`, {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrftoken": csrf() },
      body: JSON.stringify(doc),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((body.error && body.error.message) || String(r.status));
    return body;
  }

  function report(result) {
    status.textContent = panel.dataset.msgSent.replace("{accepted}", result.accepted).replace("{refused}", result.refused.length);
    refusals.replaceChildren(...result.refused.map((x) => {
      const li = document.createElement("li");
      li.textContent = `${x.code}: ${x.message}`;
      return li;
    }));
  }

  function b64decode(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  document.getElementById("unwrap-submit").addEventListener("click", async () => {
    status.textContent = panel.dataset.msgWorking;
    refusals.replaceChildren();
    let key;
    try {
      key = await EtenderCrypto.loadKeyFile(await readFile(document.getElementById("key-file")), document.getElementById("key-passphrase").value);
    } catch (e) {
      status.textContent = e.message === "passphrase_wrong" ? panel.dataset.msgPassphrase : panel.dataset.msgKeyfile;
      return;
    }
    try {
      const r = await fetch(`/tenders/${tender}/opening/headers`, { credentials: "same-origin" });
      const headers = await r.json();
      if (!r.ok) throw new Error((headers.error && headers.error.message) || String(r.status));
      const docs = [];
      for (const bid of headers.bids) {
        try {
          docs.push(await EtenderCrypto.unwrapParts(b64decode(bid.header), key, bid.bid));
        } catch (e) {
          if (e.message !== "key_not_in_bid") throw e;
        }
      }
      if (!docs.length) { status.textContent = panel.dataset.msgNokey; return; }
      report(await post({ bids: docs }));
    } catch (e) {
      status.textContent = `${panel.dataset.msgFailed} ${e.message}`;
    }
  });

  document.getElementById("upload-parts").addEventListener("click", async () => {
    refusals.replaceChildren();
    try {
      report(await post(JSON.parse(await readFile(document.getElementById("parts-file")))));
    } catch (e) {
      status.textContent = `${panel.dataset.msgFailed} ${e.message}`;
    }
  });
})();
