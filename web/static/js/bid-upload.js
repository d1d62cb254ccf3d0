/* Resumable chunked upload of a sealed bid (issue 3, E27), used by the bids page and the sealing page.
 *
 *   EtenderUpload.upload(blob, { tenderId, lotId, onProgress(done, total), onRetry(partNumber) }) -> receipt document
 *
 * begin (POST /api/v1/tenders/{id}/bids) -> each part POSTed raw to /api/v1/bids/{bid}/parts/{n} (a failed part is
 * retried with a growing pause) -> POST complete -> the signed receipt. The bid id of an unfinished upload is kept in
 * localStorage with the file's name and size: after a reload, choosing the same file again asks GET .../parts and
 * sends only the parts the server does not have yet.
 *
 * A small sealed file (at most one part: opts.partSize, or 8 MiB, the server's default) is sent whole in one request
 * (POST /api/v1/tenders/{id}/lots/{lot}/bids/sealed -> the receipt), retried whole on a network or server error
 * (a retry after a lost answer submits the same bytes again: the newer, identical bid replaces the first). If the
 * server's part size is smaller it answers bid_too_large_for_one_request and the resumable upload is used. */
(function () {
  "use strict";
  const RETRIES = 6;
  const ONE_REQUEST_MAX = 8 * 1024 * 1024;

  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)etender_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  async function api(method, url, body, isRaw) {
    const headers = { "x-csrftoken": csrfToken() };
    if (body !== undefined && !isRaw) headers["content-type"] = "application/json";
    const response = await fetch(url, {
      method, credentials: "same-origin", headers,
      body: body === undefined ? undefined : (isRaw ? body : JSON.stringify(body)),
    });
    let doc = null;
    try { doc = await response.json(); } catch (e) { doc = null; }
    if (!response.ok) {
      const err = new Error((doc && doc.error && doc.error.message) || ("HTTP " + response.status));
      err.status = response.status;
      err.code = doc && doc.error && doc.error.code;
      throw err;
    }
    return doc;
  }

  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  function memoKey(tenderId, lotId) { return "etender-upload-" + tenderId + "-" + lotId; }

  async function uploadWhole(blob, opts) {
    const url = "/api/v1/tenders/" + opts.tenderId + "/lots/" + opts.lotId + "/bids/sealed";
    if (opts.onProgress) opts.onProgress(0, blob.size);
    for (let attempt = 0; ; attempt++) {
      try {
        const receipt = await api("POST", url, blob, true);
        if (opts.onProgress) opts.onProgress(blob.size, blob.size);
        return { bid: receipt.bid, receipt, receiptPage: receipt.receipt_page };
      } catch (e) {
        if ((e.status && e.status < 500 && e.status !== 408 && e.status !== 429) || attempt >= RETRIES) throw e;
        if (opts.onRetry) opts.onRetry(1);
        await sleep(Math.min(8000, 500 * 2 ** attempt));
      }
    }
  }

  async function upload(blob, opts) {
    const total = blob.size;
    const key = memoKey(opts.tenderId, opts.lotId);
    const name = opts.name || blob.name || "";
    let state = null;
    try { state = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { state = null; }
    const resuming = state && state.size === total && state.name === name;
    if (!resuming && total > 0 && total <= (opts.partSize || ONE_REQUEST_MAX)) {
      try {
        return await uploadWhole(blob, opts);
      } catch (e) {
        if (e.code !== "bid_too_large_for_one_request") throw e;
      }
    }
    let bid = null, have = new Map(), partSize = 0;
    if (resuming) {
      try {
        const info = await api("GET", "/api/v1/bids/" + state.bid + "/parts");
        if (info.status === "uploading") {
          bid = info.bid; partSize = info.part_size;
          for (const p of info.parts) have.set(p.number, p.size);
        }
      } catch (e) { bid = null; }
    }
    if (bid === null) {
      const started = await api("POST", "/api/v1/tenders/" + opts.tenderId + "/bids", { lot_id: opts.lotId, size: total });
      bid = started.bid; partSize = started.part_size; have = new Map();
      localStorage.setItem(key, JSON.stringify({ bid, size: total, name }));
    }
    const count = Math.max(1, Math.ceil(total / partSize));
    let done = 0;
    for (let n = 1; n <= count; n++) {
      const expected = Math.min(partSize, total - (n - 1) * partSize);
      if (have.get(n) === expected) { done += expected; continue; }
    }
    if (opts.onProgress) opts.onProgress(done, total);
    for (let n = 1; n <= count; n++) {
      const start = (n - 1) * partSize, end = Math.min(total, start + partSize);
      if (have.get(n) === end - start) continue;
      for (let attempt = 0; ; attempt++) {
        try {
          await api("POST", "/api/v1/bids/" + bid + "/parts/" + n, blob.slice(start, end), true);
          break;
        } catch (e) {
          if ((e.status && e.status < 500 && e.status !== 408 && e.status !== 429) || attempt >= RETRIES) throw e;
          if (opts.onRetry) opts.onRetry(n);
          await sleep(Math.min(8000, 500 * 2 ** attempt));
        }
      }
      done += end - start;
      if (opts.onProgress) opts.onProgress(done, total);
    }
    if (opts.onChecking) opts.onChecking();
    let receipt = null;
    for (let attempt = 0; ; attempt++) {
      try { receipt = await api("POST", "/api/v1/bids/" + bid + "/complete"); break; } catch (e) {
        if ((e.status && e.status < 500) || attempt >= RETRIES) { localStorage.removeItem(key); throw e; }
        await sleep(Math.min(8000, 500 * 2 ** attempt));
      }
    }
    localStorage.removeItem(key);
    return { bid, receipt, receiptPage: "/bidder/bids/" + bid + "/receipt" };
  }

  window.EtenderUpload = { upload };

  // The bids page: one form per lot.
  for (const form of document.querySelectorAll("form.bid-upload")) {
    const status = form.querySelector(".upload-status");
    const bar = form.querySelector("progress");
    const link = form.querySelector(".receipt-link");
    const d = form.dataset;
    try {
      if (localStorage.getItem(memoKey(d.tender, d.lot))) status.textContent = d.msgResume;
    } catch (e) { /* storage disabled */ }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = form.querySelector("input[type=file]");
      if (!input.files.length) { status.textContent = d.msgChoose; return; }
      const button = form.querySelector("button");
      button.disabled = true;
      bar.hidden = false;
      try {
        const result = await upload(input.files[0], {
          tenderId: parseInt(d.tender, 10), lotId: parseInt(d.lot, 10),
          onProgress: (done, total) => {
            bar.value = total ? Math.round((done * 100) / total) : 100;
            status.textContent = d.msgUploading.replace("DONE", done.toLocaleString()).replace("TOTAL", total.toLocaleString());
          },
          onRetry: (n) => { status.textContent = d.msgRetry.replace("N", n); },
          onChecking: () => { status.textContent = d.msgChecking; },
        });
        status.textContent = d.msgDone;
        link.href = result.receiptPage;
        link.hidden = false;
        window.location.assign(result.receiptPage);
      } catch (e) {
        status.textContent = d.msgFailed.replace("REASON", e.message);
        button.disabled = false;
      }
    });
  }

  // The receipt page's print button (no inline handlers: the Content-Security-Policy allows none).
  for (const button of document.querySelectorAll("button[data-print]")) {
    button.addEventListener("click", () => window.print());
  }

  // Withdrawal asks once more.
  for (const form of document.querySelectorAll("form.withdraw")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
})();
