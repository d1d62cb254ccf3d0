/* The bidder's sealing page: fetch the tender's signed key bundle, read the chosen files and the price form,
 * seal them in this browser (etender-crypto.js) and offer the .sealed file for download. */
(function () {
  "use strict";
  const form = document.getElementById("seal-form");
  if (!form) return;
  const status = document.getElementById("seal-status");
  const link = document.getElementById("download-sealed");
  const ROLES = ["qualification", "technical", "commercial"];

  function fenOf(text) {
    const m = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(text.replace(/,/g, ""));
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + parseInt((m[2] || "0").padEnd(2, "0"), 10);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const price = fenOf(document.getElementById("f-price").value);
    const duration = parseInt(document.getElementById("f-duration").value, 10);
    const quality = document.getElementById("f-quality").value.trim();
    if (!price || !(duration > 0) || !quality) { status.textContent = form.dataset.msgPrice; return; }
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
      const sealed = await EtenderCrypto.sealBid(bundle, lot, files, priceForm, opts);
      link.href = URL.createObjectURL(new Blob(sealed.parts, { type: "application/octet-stream" }));
      link.download = form.dataset.filename + "-lot" + lot + "-" + sealed.bidId.slice(0, 8) + ".sealed";
      link.hidden = false;
      status.textContent = form.dataset.msgDone;
    } catch (e) {
      status.textContent = form.dataset.msgFailed.replace("REASON", e.message);
    }
  });
})();
