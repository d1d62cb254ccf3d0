/* The bidder's sealing page: fetch the tender's signed key bundle, read the chosen files and the price form,
 * seal them in this browser (etender-crypto.js), offer the .sealed file for download, and upload it straight
 * away with bid-upload.js (resumable, in parts), which ends on the signed receipt.
 *
 * Before sealing: a price above the lot's price ceiling is shown as a warning (R51: such a bid is rejected) and
 * sealed only after a second, explicit choice; the container's content rules (tender/bidcontent.py, rendered
 * into #content-rules) are checked by EtenderCrypto.sealBid, and a rule broken is said in the page's words. */
(function () {
  "use strict";
  const form = document.getElementById("seal-form");
  if (!form) return;
  const status = document.getElementById("seal-status");
  const link = document.getElementById("download-sealed");
  const ROLES = ["qualification", "technical", "commercial"];
  const uploadButton = document.getElementById("upload-sealed");
  const uploadStatus = document.getElementById("upload-status");
  const bar = document.getElementById("upload-progress");
  let lastSealed = null;
  const content = JSON.parse(document.getElementById("content-rules").textContent);
  const lotSelect = document.getElementById("f-lot");
  const warning = document.getElementById("ceiling-warning");
  const warningText = document.getElementById("ceiling-warning-text");
  let aboveCeilingConfirmed = null; // {price, lot} the bidder chose to seal above the ceiling

  function yuan(fen) {
    const whole = Math.floor(fen / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return whole + "." + String(fen % 100).padStart(2, "0");
  }

  function contentMessage(error) {
    const text = content.messages[error.code];
    if (!text) return null;
    return text.replace(/\{(\w+)\}/g, (all, name) => (error.params && name in error.params ? String(error.params[name]) : all));
  }

  function hideWarning() {
    warning.hidden = true;
    aboveCeilingConfirmed = null;
  }
  for (const id of ["f-price", "f-lot"]) document.getElementById(id).addEventListener("input", hideWarning);
  lotSelect.addEventListener("change", hideWarning);
  document.getElementById("ceiling-change").addEventListener("click", () => {
    hideWarning();
    document.getElementById("f-price").focus();
  });
  document.getElementById("ceiling-confirm").addEventListener("click", () => {
    aboveCeilingConfirmed = { price: fenOf(document.getElementById("f-price").value), lot: lotSelect.value };
    warning.hidden = true;
    form.requestSubmit();
  });

  function fenOf(text) {
    const m = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(text.replace(/,/g, ""));
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + parseInt((m[2] || "0").padEnd(2, "0"), 10);
  }

  /* The form is novalidate: the browser's own bubbles speak the browser's language, not the page's. Each field
   * that is wrong is marked (aria-invalid), the first one focused, and the page's message says what to enter;
   * nothing entered is cleared. */
  function mark(checks) {
    let first = null;
    for (const [id, ok] of checks) {
      const input = document.getElementById(id);
      input.setAttribute("aria-invalid", ok ? "false" : "true");
      if (!ok && !first) first = input;
    }
    if (first) first.focus();
    return !first;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const price = fenOf(document.getElementById("f-price").value);
    const duration = parseInt(document.getElementById("f-duration").value, 10);
    const quality = document.getElementById("f-quality").value.trim();
    if (!mark([["f-price", !!price], ["f-duration", duration > 0], ["f-quality", !!quality]])) {
      status.textContent = form.dataset.msgPrice;
      return;
    }
    // R51: a price above the lot's ceiling is rejected; seal it only when the bidder has chosen to
    const option = lotSelect.selectedOptions[0];
    const ceiling = parseInt(option.dataset.ceiling, 10);
    const confirmed = aboveCeilingConfirmed && aboveCeilingConfirmed.price === price && aboveCeilingConfirmed.lot === lotSelect.value;
    if (ceiling > 0 && price > ceiling && !confirmed) {
      warningText.textContent = warning.dataset.msg.replace("PRICE", yuan(price)).replace("CEILING", option.dataset.ceilingText);
      warning.hidden = false;
      status.textContent = "";
      document.getElementById("ceiling-confirm").focus();
      return;
    }
    const files = [];
    for (const role of ROLES) {
      const input = document.getElementById("f-" + role);
      for (const f of input.files) {
        files.push({ role, name: f.name, mediaType: f.type || "application/octet-stream", data: new Uint8Array(await f.arrayBuffer()) });
      }
    }
    if (!files.length) { status.textContent = form.dataset.msgFiles; return; }
    const opts = {};
    if (form.dataset.policy === "quorum+bidder") {
      const keyInput = document.getElementById("f-bidder-key");
      if (!keyInput.files.length) { status.textContent = form.dataset.msgBidderKey; return; }
      const doc = JSON.parse(await keyInput.files[0].text());
      opts.bidderPublicKey = EtenderCrypto.unb64u(doc.public_key);
    }
    status.textContent = form.dataset.msgWorking;
    try {
      const response = await fetch(form.dataset.bundle, { credentials: "same-origin" });
      if (!response.ok) throw new Error("key bundle: HTTP " + response.status);
      const bundle = await response.json();
      const lot = parseInt(document.getElementById("f-lot").value, 10);
      const priceForm = {
        total_price_fen: price, duration_days: duration, quality_commitment: quality,
        bid_security_reference: document.getElementById("f-security").value.trim(),
      };
      opts.rules = content.rules;
      const sealed = await EtenderCrypto.sealBid(bundle, lot, files, priceForm, opts);
      link.href = URL.createObjectURL(new Blob(sealed.parts, { type: "application/octet-stream" }));
      link.download = form.dataset.filename + "-lot" + lot + "-" + sealed.bidId.slice(0, 8) + ".sealed";
      link.hidden = false;
      lastSealed = { blob: new Blob(sealed.parts, { type: "application/octet-stream" }), lot, name: link.download };
      if (uploadButton) uploadButton.hidden = false;
      status.textContent = form.dataset.msgDone;
    } catch (e) {
      status.textContent = form.dataset.msgFailed.replace("REASON", contentMessage(e) || e.message);
    }
  });

  if (uploadButton) {
    uploadButton.addEventListener("click", async () => {
      if (!lastSealed) return;
      const d = uploadButton.dataset;
      uploadButton.disabled = true;
      bar.hidden = false;
      try {
        const result = await window.EtenderUpload.upload(lastSealed.blob, {
          tenderId: parseInt(form.dataset.tender, 10), lotId: lastSealed.lot, name: lastSealed.name,
          onProgress: (done, total) => {
            bar.value = total ? Math.round((done * 100) / total) : 100;
            uploadStatus.textContent = d.msgUploading.replace("DONE", done.toLocaleString()).replace("TOTAL", total.toLocaleString());
          },
          onRetry: (n) => { uploadStatus.textContent = d.msgRetry.replace("N", n); },
          onChecking: () => { uploadStatus.textContent = d.msgChecking; },
        });
        uploadStatus.textContent = d.msgDone;
        window.location.assign(result.receiptPage);
      } catch (e) {
        uploadStatus.textContent = d.msgFailed.replace("REASON", e.message);
        uploadButton.disabled = false;
      }
    });
  }
})();
